// Where a plan runs: the native addon (threads, AVX-512 / AVX2 popcounts),
// the WebAssembly build of the same kernels, or their TypeScript mirror. All
// three give bit-identical outputs. Browser-safe: the native backend takes
// the addon object, the WebAssembly one a compiled module.
import { runPlanJs } from './js-kernels.js';

export interface PackedBackend {
  readonly name: string;
  /**
   * Makes room for a heap of `heapBytes` (and a plan of `planWords` words and
   * `tmpBytes` of scratch) and returns the heap's bytes, zeroed or holding
   * the previous heap; earlier views become invalid.
   */
  prepare(heapBytes: number, planWords: number, tmpBytes: number): Uint8Array;
  /** Runs the plan over the prepared heap. */
  run(plan: Int32Array, tmpBytes: number): void;
}

const badPlan = (at: number) => new Error(`packed engine: bad plan record at word ${at}`);

/** A heap in an ArrayBuffer of its own, kept while its size stays the same. */
abstract class ArrayHeap {
  protected heap = new Uint8Array(0);
  prepare(heapBytes: number): Uint8Array {
    if (this.heap.length !== heapBytes) this.heap = new Uint8Array(heapBytes);
    return this.heap;
  }
}

export class JsBackend extends ArrayHeap implements PackedBackend {
  readonly name = 'js';
  run(plan: Int32Array): void {
    const bad = runPlanJs(this.heap.buffer, 0, this.heap.length, plan);
    if (bad) throw badPlan(bad);
  }
}

/** The addon's packed entry points (native/packed_addon.cc). */
export interface PackedAddon {
  packedRun(heap: ArrayBuffer, plan: Int32Array, tmpBytes: number): void;
  packedIsa(): string;
  setPackedIsa(name: string): string;
}

export class NativeBackend extends ArrayHeap implements PackedBackend {
  readonly name = 'native';
  constructor(private readonly addon: PackedAddon) { super(); }
  run(plan: Int32Array, tmpBytes: number): void { this.addon.packedRun(this.heap.buffer as ArrayBuffer, plan, tmpBytes); }
}

interface WasmExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  run(heap: number, plan: number, nwords: number, tmp: number, tmpBytes: number, tuned: number): number;
}

/** One instance (its own memory) of wasm/equalbits-packed.wasm. `tuned` false: the portable count loop (tests compare both). */
export class WasmBackend implements PackedBackend {
  readonly name = 'wasm';
  private readonly exp: WasmExports;
  private readonly base: number;
  private heapBytes = 0;
  private planAt = 0;
  private tmpAt = 0;
  constructor(module: WebAssembly.Module, private readonly tuned = true) {
    this.exp = new WebAssembly.Instance(module, {}).exports as unknown as WasmExports;
    this.base = Math.ceil(this.exp.heap_base() / 64) * 64;
  }
  prepare(heapBytes: number, planWords: number, tmpBytes: number): Uint8Array {
    const up = (v: number) => Math.ceil(v / 64) * 64;
    this.heapBytes = heapBytes;
    this.planAt = up(this.base + heapBytes);
    this.tmpAt = up(this.planAt + 4 * planWords);
    const need = this.tmpAt + tmpBytes, mem = this.exp.memory;
    if (need > 4 * 2 ** 30) throw new Error(`packed engine (wasm): needs ${need} bytes, over WebAssembly's 4 GiB`);
    if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    return new Uint8Array(mem.buffer, this.base, heapBytes);
  }
  run(plan: Int32Array, tmpBytes: number): void {
    new Int32Array(this.exp.memory.buffer, this.planAt, plan.length).set(plan);
    const bad = this.exp.run(this.base, this.planAt, plan.length, this.tmpAt, tmpBytes, this.tuned ? 1 : 0);
    if (bad) throw badPlan(bad);
  }
  /** The heap's current view (memory growth replaces the buffer). */
  view(): Uint8Array { return new Uint8Array(this.exp.memory.buffer, this.base, this.heapBytes); }
}
