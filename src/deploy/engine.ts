// The packed inference engine: loads a .ebnn file, lays it out as a plan
// (src/deploy/plan.ts) and runs it on a backend (src/deploy/backends.ts):
// 1W/1A layers as XNOR + popcount on channels-last sign bits, 1W/32A layers
// as add / subtract straight from the packed weight bits, float layers in a
// fixed order, so that every backend gives the same bits. Browser-safe.
import { decodePacked } from './format.js';
import { numel as size, validateGraph, type PackedGraph } from './graph.js';
import { buildPlan, layoutStatic, type Plan, type StaticLayout } from './plan.js';
import type { PackedBackend } from './backends.js';

export class PackedModel {
  readonly graph: PackedGraph;
  private readonly layout: StaticLayout;
  private plan: (Plan & { keepAll: boolean }) | null = null;
  private heap: Uint8Array = new Uint8Array(0);

  private constructor(graph: PackedGraph, layout: StaticLayout, readonly backend: PackedBackend) {
    this.graph = graph;
    this.layout = layout;
  }

  /** Parses, checks and prepares a packed model; `name` labels errors. */
  static load(bytes: Uint8Array, backend: PackedBackend, name = 'model'): PackedModel {
    const file = decodePacked(bytes, name);
    const graph = validateGraph(file.graph, file.sections, name);
    return new PackedModel(graph, layoutStatic(graph, file.sections), backend);
  }

  get inputShape(): [number, number, number] { return this.graph.input.shape; }
  get outputSize(): number { return size(this.graph.outputShape); }

  /** The plan of the last run (for profiling), or null before the first. */
  currentPlan(): Plan | null { return this.plan; }

  private prepare(n: number, keepAll: boolean): Plan {
    if (this.plan && this.plan.n === n && this.plan.keepAll === keepAll) return this.plan;
    const plan = { ...buildPlan(this.graph, this.layout, n, keepAll), keepAll };
    this.heap = this.backend.prepare(plan.heapBytes, plan.words.length, plan.tmpBytes);
    this.heap.set(this.layout.bytes, 0);
    this.plan = plan;
    return plan;
  }

  /**
   * Runs n normalised inputs [n, c, h, w]; returns the outputs [n, outputSize].
   * With `keep`, every value of the graph is copied into it by id (for checks).
   */
  run(x: Float32Array, n: number, keep?: Map<number, Float32Array>): Float32Array {
    const plan = this.prepare(n, keep !== undefined);
    const view = (off: number, len: number) => new Float32Array(this.heap.buffer, this.heap.byteOffset + off, len);
    view(plan.input, n * size(this.inputShape)).set(x.subarray(0, n * size(this.inputShape)));
    this.backend.run(plan.words, plan.tmpBytes);
    if (keep) {
      keep.set(0, x);
      for (const node of this.graph.nodes) keep.set(node.out, view(plan.values.get(node.out)!, n * size(node.shape)).slice());
    }
    return view(plan.output, plan.outputLength).slice();
  }
}
