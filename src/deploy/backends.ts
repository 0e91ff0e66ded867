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
  /** Stops what the backend started (the threaded wasm backend's workers); absent where nothing runs. */
  close?(): void;
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
  memory?: WebAssembly.Memory;
  __stack_pointer?: WebAssembly.Global;
  heap_base(): number;
  run(heap: number, plan: number, nwords: number, tmp: number, tmpBytes: number, tuned: number, threads: number): number;
  stop?(): void;
  workers_started?(): number;
  worker_tasks?(): number;
}

/** What a worker of the threaded WebAssembly backend is started with (see WasmWorkerSpawner). */
export interface WasmWorkerInit { module: WebAssembly.Module; memory: WebAssembly.Memory; tid: number; stackTop: number }

/**
 * Starts one worker of the threaded module (a Web Worker, a Node worker
 * thread): it instantiates `module` with `{ env: { memory } }`, sets the
 * instance's `__stack_pointer` to `stackTop` and calls `worker(tid)`, which
 * returns once the backend is closed.
 */
export type WasmWorkerSpawner = (init: WasmWorkerInit) => { terminate(): void };

export interface WasmOptions {
  /** false: the portable count loop instead of the tuned one (tests compare both). */
  tuned?: boolean;
  /** Threads, this one included (default 1); more than 1 needs the threaded module and `spawn`. */
  threads?: number;
  spawn?: WasmWorkerSpawner;
}

/** Threads the WebAssembly module's run() takes at most (its table of per-thread scratch). */
export const MAX_WASM_THREADS = 64;
const WASM_PAGE = 65536;
const WORKER_STACK = 256 * 1024; // bytes of stack per worker: the kernels keep only small tiles on it
const up64 = (v: number) => Math.ceil(v / 64) * 64;

/**
 * One instance (its own memory) of wasm/equalbits-packed.wasm, or of the
 * threaded wasm/equalbits-packed-mt.wasm on a shared memory with workers
 * started by `spawn` (each with a stack carved out below the heap).
 */
export class WasmBackend implements PackedBackend {
  readonly name = 'wasm';
  readonly threads: number;
  private readonly exp: WasmExports;
  private readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private readonly tuned: boolean;
  private workers: { terminate(): void }[] = [];
  private heapBytes = 0;
  private planAt = 0;
  private tmpAt = 0;
  constructor(module: WebAssembly.Module, options: WasmOptions = {}) {
    this.tuned = options.tuned ?? true;
    this.threads = options.threads ?? 1;
    const shared = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
    if (!(Number.isInteger(this.threads) && this.threads >= 1 && this.threads <= MAX_WASM_THREADS)) throw new Error(`packed engine (wasm): threads must be an integer in 1..${MAX_WASM_THREADS}, got ${this.threads}`);
    if (this.threads > 1 && !(shared && options.spawn)) throw new Error('packed engine (wasm): more than one thread needs the threaded module (equalbits-packed-mt.wasm) and a worker spawner');
    const imported = shared ? new WebAssembly.Memory({ initial: 32, maximum: WASM_PAGE, shared: true }) : undefined;
    this.exp = new WebAssembly.Instance(module, imported ? { env: { memory: imported } } : {}).exports as unknown as WasmExports;
    this.memory = imported ?? this.exp.memory!;
    const stacks = up64(this.exp.heap_base());
    this.base = stacks + (this.threads - 1) * WORKER_STACK;
    this.grow(this.base);
    for (let tid = 1; tid < this.threads; tid++) {
      this.workers.push(options.spawn!({ module, memory: this.memory, tid, stackTop: stacks + tid * WORKER_STACK }));
    }
  }
  private grow(bytes: number): void {
    if (bytes > 4 * 2 ** 30) throw new Error(`packed engine (wasm): needs ${bytes} bytes, over WebAssembly's 4 GiB`);
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / WASM_PAGE));
  }
  prepare(heapBytes: number, planWords: number, tmpBytes: number): Uint8Array {
    this.heapBytes = heapBytes;
    this.planAt = up64(this.base + heapBytes);
    this.tmpAt = up64(this.planAt + 4 * planWords);
    this.grow(this.tmpAt + this.threads * up64(tmpBytes));
    return new Uint8Array(this.memory.buffer, this.base, heapBytes);
  }
  run(plan: Int32Array, tmpBytes: number): void {
    new Int32Array(this.memory.buffer, this.planAt, plan.length).set(plan);
    const bad = this.exp.run(this.base, this.planAt, plan.length, this.tmpAt, up64(tmpBytes), this.tuned ? 1 : 0, this.threads);
    if (bad) throw badPlan(bad);
  }
  /** Workers that have started serving tasks (a worker starts asynchronously; until then this thread runs every task). */
  workersStarted(): number { return this.exp.workers_started?.() ?? 0; }
  /** Tasks the workers have run so far. */
  workerTasks(): number { return this.exp.worker_tasks?.() ?? 0; }
  /** Ends the workers (the threaded module); the backend cannot run after it. */
  close(): void {
    this.exp.stop?.();
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
  /** The heap's current view (memory growth replaces the buffer). */
  view(): Uint8Array { return new Uint8Array(this.memory.buffer, this.base, this.heapBytes); }
}
