// Node-only: makes a packed backend by name, loading the addon or reading the
// committed WebAssembly module (wasm/equalbits-packed.wasm, rebuilt byte for
// byte by scripts/build-wasm.sh).
import fs from 'node:fs';
import { nativeKernels, nativeLoadError } from '../native/index.js';
import { UserError } from '../util/errors.js';
import { JsBackend, NativeBackend, WasmBackend, type PackedAddon, type PackedBackend } from './backends.js';

export const PACKED_BACKENDS = ['native', 'wasm', 'js'] as const;
export type PackedBackendName = (typeof PACKED_BACKENDS)[number];

export const wasmPath = new URL('../../../wasm/equalbits-packed.wasm', import.meta.url);
let wasmModule: WebAssembly.Module | null = null;

export function loadWasmModule(): WebAssembly.Module {
  if (!wasmModule) {
    let bytes: Buffer;
    try { bytes = fs.readFileSync(wasmPath); } catch (e) { throw new UserError(`cannot read ${wasmPath.pathname}: ${(e as Error).message}`); }
    wasmModule = new WebAssembly.Module(new Uint8Array(bytes));
  }
  return wasmModule;
}

export function nativeAddon(): PackedAddon {
  const addon = nativeKernels as unknown as Partial<PackedAddon> | null;
  if (!addon || typeof addon.packedRun !== 'function') throw new UserError(`the native addon is not available (${nativeLoadError() || 'EQUALBITS_BACKEND=reference'}); use --engine wasm or js`);
  return addon as PackedAddon;
}

export function packedBackend(name: string): PackedBackend {
  switch (name) {
    case 'native': return new NativeBackend(nativeAddon());
    case 'wasm': return new WasmBackend(loadWasmModule());
    case 'js': return new JsBackend();
    default: throw new UserError(`unknown engine "${name}": use ${PACKED_BACKENDS.join(', ')}`);
  }
}
