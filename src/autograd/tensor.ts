// Tensor and the reverse-mode autograd engine.
//
// A differentiable op computes its output with the kernels and, when any input
// needs a gradient, records a Node: the inputs, the output and a backward
// closure that adds this op's contribution to each input's gradient. Nodes are
// numbered in creation order, which is a valid topological order, so
// backward() only has to collect the nodes reachable from the loss and run
// them newest first.
//
// Memory: op outputs and intermediate gradients come from the buffer pool.
// tidy(fn) disposes every tensor created inside fn except what fn returns, so
// a training step hands its buffers back for the next step. Gradients of
// intermediate tensors are released as soon as their node has run.
import { kernels } from '../native/index.js';
import { traceOp } from './trace.js';
import { floatPool } from './pool.js';
import { ShapeError, UserError } from '../util/errors.js';

export interface Node {
  readonly id: number;
  readonly output: Tensor;
  readonly inputs: readonly Tensor[];
  /** Adds d(loss)/d(input) for every input, given gy = d(loss)/d(output). */
  backward(gy: Float32Array): void;
  /** Frees buffers saved for the backward (called when the output is disposed). */
  release?(): void;
}

let nextNodeId = 0;
let gradEnabled = true;
const scopes: Set<Tensor>[] = [];
const EMPTY = new Float32Array(0);

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export class Tensor {
  data: Float32Array;
  readonly shape: readonly number[];
  requiresGrad: boolean;
  /** The op that produced this tensor (null for leaves and for no-grad results). */
  node: Node | null = null;
  /** For views: the tensor whose buffer this one shares. */
  readonly base: Tensor | null;
  /** Gradient storage; null until a backward reaches this tensor. */
  gradData: Float32Array | null = null;
  /** Set by zeroGrad(): the next gradient overwrites gradData instead of adding. */
  gradIsZero = false;
  /** Keep the gradient of a non-leaf tensor after backward (like PyTorch's retain_grad). */
  retainsGrad = false;
  /** Bumped by every in-place change of data (optimizer steps, state loads): lets caches know they are stale. */
  version = 0;
  private pooled: boolean;
  private disposed = false;

  constructor(data: Float32Array, shape: readonly number[], opts: { requiresGrad?: boolean; pooled?: boolean; base?: Tensor | null; track?: boolean } = {}) {
    const size = shapeSize(shape);
    if (data.length !== size) throw new ShapeError(`data has ${data.length} elements, shape [${shape.join(', ')}] needs ${size}`);
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = opts.requiresGrad ?? false;
    this.pooled = opts.pooled ?? false;
    this.base = opts.base ?? null;
    if (opts.track !== false && scopes.length > 0) scopes[scopes.length - 1].add(this);
  }

  /** A new tensor whose (uninitialised) buffer comes from the pool. */
  static empty(shape: readonly number[]): Tensor {
    return new Tensor(floatPool.acquire(shapeSize(shape)), shape, { pooled: true });
  }

  static zeros(shape: readonly number[], opts: { requiresGrad?: boolean } = {}): Tensor {
    return new Tensor(new Float32Array(shapeSize(shape)), shape, opts);
  }

  /** Wraps (does not copy) a caller-owned buffer. */
  static from(data: Float32Array | number[], shape?: readonly number[], opts: { requiresGrad?: boolean } = {}): Tensor {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    return new Tensor(arr, shape ?? [arr.length], opts);
  }

  get numel(): number { return this.data.length; }
  get isDisposed(): boolean { return this.disposed; }
  get isLeaf(): boolean { return this.node === null; }

  /** The gradient as a tensor sharing gradData (null before any backward). */
  get grad(): Tensor | null {
    if (!this.gradData) return null;
    if (this.gradIsZero) { this.gradData.fill(0); this.gradIsZero = false; }
    return new Tensor(this.gradData, this.shape, { track: false });
  }

  item(): number {
    if (this.numel !== 1) throw new ShapeError(`item() needs a tensor with one element, this one has shape [${this.shape.join(', ')}]`);
    return this.data[0];
  }

  /** Same data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, { base: this.base ?? this });
  }

  /** A view with another shape (one dimension may be -1). Differentiable. */
  reshape(shape: readonly number[]): Tensor {
    const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const full = shape.map((d) => (d === -1 ? this.numel / known : d));
    if (shapeSize(full) !== this.numel) throw new ShapeError(`cannot reshape [${this.shape.join(', ')}] to [${shape.join(', ')}]`);
    const out = new Tensor(this.data, full, { base: this.base ?? this });
    traceOp('reshape', [this], out);
    record(out, [this], (gy) => passGrad(this, out, gy));
    return out;
  }

  /** Clears the gradient without freeing its buffer (the next backward overwrites it). */
  zeroGrad(): void {
    if (this.gradData) this.gradIsZero = true;
  }

  /** Runs the backward pass from this tensor. Non-scalars need an explicit gradient. */
  backward(grad?: Float32Array): void {
    if (!this.requiresGrad) throw new UserError('backward(): this tensor does not require a gradient');
    if (!grad && this.numel !== 1) throw new ShapeError('backward(): a non-scalar tensor needs an explicit gradient');
    if (grad && grad.length !== this.numel) throw new ShapeError(`backward(): gradient has ${grad.length} elements, tensor has ${this.numel}`);
    accumulateGrad(this, (dst) => (grad ? dst.set(grad) : dst.fill(1)));
    for (const node of reachableNodes(this)) {
      const out = node.output;
      const gy = out.gradData;
      if (!gy) continue; // no gradient flowed into this branch
      if (out.gradIsZero) { gy.fill(0); out.gradIsZero = false; }
      node.backward(gy);
      if (!out.retainsGrad) out.releaseGrad();
    }
  }

  private releaseGrad(): void {
    if (this.gradData) floatPool.release(this.gradData);
    this.gradData = null;
  }

  /** Returns the buffers to the pool. Using the tensor afterwards is an error. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.node?.release?.();
    this.node = null;
    if (this.pooled && !this.base) floatPool.release(this.data);
    if (!this.isLeafParameter()) this.releaseGrad();
    this.data = EMPTY;
  }

  /** Leaves that require grad own a persistent (non-pooled) gradient buffer. */
  private isLeafParameter(): boolean {
    return this.node === null && this.requiresGrad;
  }

  toString(): string {
    const head = Array.from(this.data.subarray(0, 6), (v) => v.toPrecision(4)).join(', ');
    return `Tensor([${this.shape.join(', ')}], [${head}${this.numel > 6 ? ', ...' : ''}])`;
  }
}

/** Nodes reachable from t, newest first (a valid reverse topological order). */
function reachableNodes(t: Tensor): Node[] {
  const seen = new Set<Node>();
  const stack: Tensor[] = [t];
  while (stack.length) {
    const n = stack.pop()!.node;
    if (!n || seen.has(n)) continue;
    seen.add(n);
    for (const inp of n.inputs) stack.push(inp);
  }
  return [...seen].sort((a, b) => b.id - a.id);
}

/**
 * Adds a gradient contribution to t. `compute` writes the contribution into
 * the buffer it is given (overwriting it); the first contribution goes
 * straight into the gradient buffer. Later ones go through a pooled
 * temporary, unless `addInto` is given: it adds the contribution in place,
 * saving the temporary's write and read.
 */
export function accumulateGrad(t: Tensor, compute: (dst: Float32Array) => void, addInto?: (dst: Float32Array) => void): void {
  if (!t.requiresGrad) return;
  const n = t.numel;
  if (t.gradData === null) {
    // Leaves keep their gradient across steps: allocate it once, outside the pool.
    t.gradData = t.node === null ? new Float32Array(n) : floatPool.acquire(n);
    compute(t.gradData);
  } else if (t.gradIsZero) {
    compute(t.gradData);
  } else if (addInto) {
    addInto(t.gradData);
  } else {
    const tmp = floatPool.acquire(n);
    compute(tmp);
    kernels.axpy(n, 1, tmp, t.gradData);
    floatPool.release(tmp);
  }
  t.gradIsZero = false;
}

/**
 * Passes out's gradient unchanged to t (add, reshape). When t has no
 * gradient yet and is an intermediate result, it takes over out's buffer
 * instead of copying it: out's gradient is released right after its node
 * runs anyway, unless it is retained.
 */
export function passGrad(t: Tensor, out: Tensor, gy: Float32Array): void {
  if (t.requiresGrad && t.gradData === null && t.node !== null && out.gradData === gy && !out.retainsGrad && gy.length === t.numel) {
    t.gradData = gy;
    t.gradIsZero = false;
    out.gradData = null;
    return;
  }
  accumulateGrad(t, (dst) => dst.set(gy), (dst) => kernels.axpy(gy.length, 1, gy, dst));
}

/** Whether ops record nodes for backward right now. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** True if an op on these inputs must record a node. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return gradEnabled && inputs.some((t) => t?.requiresGrad);
}

/**
 * Records a node producing `out` from `inputs` if any input requires grad and
 * grad mode is on; otherwise runs `release` at once (nothing will need the
 * saved buffers). Returns whether a node was recorded.
 */
export function record(out: Tensor, inputs: readonly (Tensor | null | undefined)[], backward: (gy: Float32Array) => void, release?: () => void): boolean {
  const live = inputs.filter((t): t is Tensor => !!t);
  if (!needsGrad(live)) {
    release?.();
    return false;
  }
  out.requiresGrad = true;
  out.node = { id: nextNodeId++, output: out, inputs: live, backward, release };
  return true;
}

/** Runs fn with gradient recording off (inference, weight updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Collects the tensors inside a result value (a tensor, or arrays/objects of them). */
function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) {
    for (let t: Tensor | null = value; t; t = t.base) into.add(t);
  } else if (depth < 4 && value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
  }
}

/**
 * Runs fn and disposes every tensor it created that is not part of its
 * result, returning their buffers to the pool. Results move to the enclosing
 * scope (if any). Call backward() inside the scope: the graph is freed at exit.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Stops the current tidy scope from disposing t (it stays alive until disposed by hand). */
export function keep<T extends Tensor>(t: T): T {
  for (let x: Tensor | null = t; x; x = x.base) for (const s of scopes) s.delete(x);
  return t;
}
