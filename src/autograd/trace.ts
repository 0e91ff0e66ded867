// Op tracing: while a tracer is set, every differentiable op reports its
// name, inputs, output and attributes. The exporter runs one forward pass
// under a tracer to turn any model into a graph, without each model having
// to describe itself.
import type { Tensor } from './tensor.js';

export interface TraceEvent {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  attrs: Record<string, unknown>;
}

let tracer: ((e: TraceEvent) => void) | null = null;

/** Called by ops; a no-op unless tracing. */
export function traceOp(op: string, inputs: Tensor[], output: Tensor, attrs: Record<string, unknown> = {}): void {
  if (tracer) tracer({ op, inputs, output, attrs });
}

/** Runs fn with every op reported to onOp (not re-entrant). */
export function traced<T>(onOp: (e: TraceEvent) => void, fn: () => T): T {
  if (tracer) throw new Error('traced(): already tracing');
  tracer = onOp;
  try {
    return fn();
  } finally {
    tracer = null;
  }
}
