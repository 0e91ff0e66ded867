// Browser: the workers of the threaded WebAssembly backend as Web Workers, for
// pages that are cross-origin isolated (SharedArrayBuffer, shared wasm memory).
//   const mt = await WebAssembly.compileStreaming(fetch('equalbits-packed-mt.wasm'));
//   const backend = new WasmBackend(mt, { threads: 2, spawn: spawnWebWorker });
// A worker is a few lines of script made into a blob URL, so a bundler has no
// separate file to ship. Until a worker has started, the page's thread runs
// every task itself, so the first runs are simply not yet parallel.
import type { WasmWorkerInit } from './backends.js';

/** The worker's script: instantiate on the shared memory, take its stack, serve tasks until stopped. */
export const WEB_WORKER_SOURCE = `onmessage = ({ data: { module, memory, tid, stackTop } }) => {
  const exp = new WebAssembly.Instance(module, { env: { memory } }).exports;
  exp.__stack_pointer.value = stackTop;
  exp.worker(tid);
};`;

interface WebWorker { postMessage(message: unknown): void; terminate(): void }
type WorkerConstructor = new (url: string) => WebWorker;

/** A WasmWorkerSpawner for browsers (the global Worker; a blob URL holds the script). */
export function spawnWebWorker(init: WasmWorkerInit): { terminate(): void } {
  const WorkerClass = (globalThis as { Worker?: WorkerConstructor }).Worker;
  if (!WorkerClass) throw new Error('packed engine (wasm): this host has no Web Workers; use one thread');
  const url = URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new WorkerClass(url);
  worker.postMessage(init);
  return { terminate: () => { worker.terminate(); URL.revokeObjectURL(url); } };
}
