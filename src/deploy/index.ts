// The browser-safe packed-model API: read a .ebnn file and run it on the
// WebAssembly module (wasm/equalbits-packed.wasm) or in plain TypeScript.
// Nothing here imports Node modules (a test walks the imports); Node code
// that also wants the native addon uses node-backends.ts.
//   const module = await WebAssembly.compileStreaming(fetch('equalbits-packed.wasm'));
//   const model = PackedModel.load(new Uint8Array(await (await fetch('m.ebnn')).arrayBuffer()), new WasmBackend(module));
//   const logits = model.run(normalisedPixels, 1);
// Threads (a cross-origin-isolated page): compile equalbits-packed-mt.wasm and
// pass { threads: 2, spawn: spawnWebWorker } (web-workers.ts).
export { PackedModel } from './engine.js';
export { spawnWebWorker } from './web-workers.js';
export { JsBackend, NativeBackend, WasmBackend, type PackedBackend, type PackedAddon, type WasmOptions, type WasmWorkerInit, type WasmWorkerSpawner } from './backends.js';
export { decodePacked, encodePacked, type SectionArray } from './format.js';
export { validateGraph, type GraphNode, type PackedGraph } from './graph.js';
export { opTimes, timeCalls, median, type OpTime } from './profile.js';
