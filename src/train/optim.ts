// Optimizers. The update itself is one fused native kernel per parameter
// (PyTorch semantics), so a step reads and writes each weight once.
import { kernels } from '../native/index.js';
import type { Parameter } from '../nn/index.js';
import { UserError } from '../util/errors.js';

export interface OptimizerState {
  kind: string;
  lr: number;
  stepCount: number;
  /** Per parameter (in the order given to the constructor): named state buffers. */
  slots: Record<string, Float32Array | number>[];
}

export abstract class Optimizer {
  /** The learning rate used by the next step (schedulers set it). */
  lr: number;
  stepCount = 0;
  protected slots: Record<string, Float32Array | number>[];

  constructor(readonly params: Parameter[], lr: number, readonly kind: string) {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new UserError(`${kind}: learning rate must be a finite number >= 0, got ${lr}`);
    if (new Set(params).size !== params.length) throw new UserError(`${kind}: a parameter is listed twice`);
    this.lr = lr;
    this.slots = params.map(() => ({}));
  }

  /** Updates every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (p.gradData && !p.gradIsZero) {
        this.update(p, p.gradData, this.slots[i]);
        p.version++;
      }
    });
  }

  protected abstract update(p: Parameter, grad: Float32Array, slot: Record<string, Float32Array | number>): void;

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  stateDict(): OptimizerState {
    return {
      kind: this.kind, lr: this.lr, stepCount: this.stepCount,
      slots: this.slots.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? v : v.slice()]))),
    };
  }

  loadStateDict(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new UserError(`optimizer state is for ${state.kind}, this optimizer is ${this.kind}`);
    if (state.slots.length !== this.params.length) throw new UserError(`optimizer state has ${state.slots.length} parameters, model has ${this.params.length}`);
    state.slots.forEach((s, i) => {
      for (const v of Object.values(s)) {
        if (typeof v !== 'number' && v.length !== this.params[i].numel) throw new UserError(`optimizer state for parameter ${i} has the wrong size`);
      }
    });
    this.lr = state.lr;
    this.stepCount = state.stepCount;
    this.slots = state.slots.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? v : Float32Array.from(v)])));
  }
}

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  constructor(params: Parameter[], opts: SGDOptions) {
    super(params, opts.lr, 'sgd');
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new UserError('sgd: nesterov needs momentum > 0 and dampening 0');
  }
  protected update(p: Parameter, grad: Float32Array, slot: Record<string, Float32Array | number>): void {
    const first = !slot.momentum;
    if (first && this.momentum !== 0) slot.momentum = new Float32Array(p.numel);
    const buf = (slot.momentum as Float32Array | undefined) ?? EMPTY;
    kernels.sgdStep(p.numel, p.data, grad, buf, this.lr, this.momentum, this.dampening, this.weightDecay, this.nesterov, first);
  }
}
const EMPTY = new Float32Array(0);

export interface AdamOptions { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number }

/** Adam; with decoupled weight decay it is AdamW. */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  constructor(params: Parameter[], opts: AdamOptions = {}, readonly decoupled = false) {
    super(params, opts.lr ?? 1e-3, decoupled ? 'adamw' : 'adam');
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? (decoupled ? 1e-2 : 0);
  }
  protected update(p: Parameter, grad: Float32Array, slot: Record<string, Float32Array | number>): void {
    if (!slot.m) { slot.m = new Float32Array(p.numel); slot.v = new Float32Array(p.numel); slot.step = 0; }
    slot.step = (slot.step as number) + 1;
    kernels.adamStep(p.numel, p.data, grad, slot.m as Float32Array, slot.v as Float32Array, this.lr,
      this.betas[0], this.betas[1], this.eps, this.weightDecay, this.decoupled, slot.step);
  }
}

export class AdamW extends Adam {
  constructor(params: Parameter[], opts: AdamOptions = {}) {
    super(params, opts, true);
  }
}
