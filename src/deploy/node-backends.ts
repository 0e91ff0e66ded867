// Node-only: makes a packed backend by name, loading the addon or reading the
// committed WebAssembly modules (wasm/equalbits-packed.wasm and its threaded
// build equalbits-packed-mt.wasm, rebuilt byte for byte by
// scripts/build-wasm.sh); the threaded one runs its workers in worker threads.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { nativeKernels, nativeLoadError } from '../native/index.js';
import { UserError } from '../util/errors.js';
import { WEB_WORKER_SOURCE } from './web-workers.js';
import { JsBackend, MAX_WASM_THREADS, NativeBackend, WasmBackend, type PackedAddon, type PackedBackend, type WasmWorkerInit } from './backends.js';

export const PACKED_BACKENDS = ['native', 'wasm', 'js'] as const;
export type PackedBackendName = (typeof PACKED_BACKENDS)[number];

export const wasmPath = new URL('../../../wasm/equalbits-packed.wasm', import.meta.url);
export const wasmThreadedPath = new URL('../../../wasm/equalbits-packed-mt.wasm', import.meta.url);
const wasmModules = new Map<string, WebAssembly.Module>();

/** The compiled module, single-threaded or (`threaded`) the build on a shared memory. */
export function loadWasmModule(threaded = false): WebAssembly.Module {
  const url = threaded ? wasmThreadedPath : wasmPath;
  let module = wasmModules.get(url.href);
  if (!module) {
    let bytes: Buffer;
    try { bytes = fs.readFileSync(url); } catch (e) { throw new UserError(`cannot read ${url.pathname}: ${(e as Error).message}`); }
    module = new WebAssembly.Module(new Uint8Array(bytes));
    wasmModules.set(url.href, module);
  }
  return module;
}

/** A Web Worker's script made to run on a Node worker thread: its onmessage is fed by parentPort. */
export const onWorkerThread = (script: string): string =>
  `const { parentPort } = require('node:worker_threads');\n${script}\nparentPort.on('message', (data) => onmessage({ data }));`;

/** Starts a worker thread for the threaded WebAssembly backend (the browser's worker script, web-workers.ts); it does not keep the process alive. */
export function spawnWasmWorker(init: WasmWorkerInit): { terminate(): void } {
  const worker = new Worker(onWorkerThread(WEB_WORKER_SOURCE), { eval: true });
  worker.postMessage(init);
  worker.unref();
  return { terminate: () => void worker.terminate() };
}

export function nativeAddon(): PackedAddon {
  const addon = nativeKernels as unknown as Partial<PackedAddon> | null;
  if (!addon || typeof addon.packedRun !== 'function') throw new UserError(`the native addon is not available (${nativeLoadError() || 'EQUALBITS_BACKEND=reference'}); use --engine wasm or js`);
  return addon as PackedAddon;
}

/** The threaded WebAssembly backend, once its workers run (Node's main thread may block; a browser's may not). */
export function threadedWasmBackend(threads: number): WasmBackend {
  const backend = new WasmBackend(loadWasmModule(true), { threads, spawn: spawnWasmWorker });
  const nap = new Int32Array(new SharedArrayBuffer(4)), t0 = Date.now();
  while (backend.workersStarted() < threads - 1) {
    if (Date.now() - t0 > 10000) {
      backend.close();
      throw new UserError(`packed engine (wasm): ${threads - 1} worker threads did not start within 10 s`);
    }
    Atomics.wait(nap, 0, 0, 1);
  }
  return backend;
}

/** A backend by name; `threads` applies to wasm (the native engine takes the addon's thread count). */
export function packedBackend(name: string, threads = 1): PackedBackend {
  if (name === 'wasm' && !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_WASM_THREADS)) {
    throw new UserError(`the wasm engine runs 1 to ${MAX_WASM_THREADS} threads, not ${threads}`);
  }
  switch (name) {
    case 'native': return new NativeBackend(nativeAddon());
    case 'wasm': return threads > 1 ? threadedWasmBackend(threads) : new WasmBackend(loadWasmModule());
    case 'js': return new JsBackend();
    default: throw new UserError(`unknown engine "${name}": use ${PACKED_BACKENDS.join(', ')}`);
  }
}
