// Parameter, Module and Sequential, shaped like PyTorch's nn.Module: a module's
// parameters, buffers and children are found by walking its own properties,
// so names in a state dict ("features.0.weight", "bn.running_mean") follow
// the field names and the order in which the fields were declared.
import { Tensor } from '../autograd/index.js';
import { ShapeError, UserError } from '../util/errors.js';

/** A trainable leaf tensor. Never tracked by tidy(). */
export class Parameter extends Tensor {
  constructor(data: Float32Array, shape: readonly number[]) {
    super(data, shape, { requiresGrad: true, track: false });
  }
  static override zeros(shape: readonly number[]): Parameter {
    return new Parameter(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  }
}

/** Module state that is saved but not trained (e.g. batch norm running statistics). */
export class StateBuffer extends Tensor {
  constructor(data: Float32Array, shape: readonly number[]) {
    super(data, shape, { track: false });
  }
}

export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

export abstract class Module {
  training = true;

  abstract forward(x: Tensor): Tensor;

  /** Direct children, named by field (arrays of modules get "field.i"). Fields starting with "_" are skipped. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (key.startsWith('_')) continue;
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) value.forEach((v, i) => { if (v instanceof Module) out.push([`${key}.${i}`, v]); });
    }
    return out;
  }

  /** All submodules including this one, depth first, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  private namedOwn<T>(kind: abstract new (...args: never[]) => T): [string, T][] {
    const out: [string, T][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (!key.startsWith('_') && value instanceof kind) out.push([key, value]);
    }
    return out;
  }

  /** Parameters with dotted names; a parameter shared by two modules is listed once. */
  namedParameters(): [string, Parameter][] {
    return dedupe(this.namedModules().flatMap(([p, m]) => m.namedOwn(Parameter).map(([k, t]) => [join(p, k), t] as [string, Parameter])));
  }

  namedBuffers(): [string, StateBuffer][] {
    return dedupe(this.namedModules().flatMap(([p, m]) => m.namedOwn(StateBuffer).map(([k, t]) => [join(p, k), t] as [string, StateBuffer])));
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.numel, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Copies of every parameter and buffer, by name. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
      out[name] = { shape: [...t.shape], data: t.data.slice() };
    }
    return out;
  }

  /** Loads values in place. strict: every name must match both ways. */
  loadStateDict(state: StateDict, strict = true): void {
    const own = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    if (strict) {
      const missing = [...own.keys()].filter((k) => !(k in state));
      const unexpected = Object.keys(state).filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        throw new UserError(`state dict does not match the model: missing [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]`);
      }
    }
    for (const [name, t] of own) {
      const s = state[name];
      if (!s) continue;
      if (s.data.length !== t.numel || s.shape.join(',') !== t.shape.join(',')) {
        throw new ShapeError(`state dict entry ${name} has shape [${s.shape.join(', ')}], model has [${t.shape.join(', ')}]`);
      }
      t.data.set(s.data);
      t.version++;
    }
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function dedupe<T>(items: [string, T][]): [string, T][] {
  const seen = new Set<T>();
  return items.filter(([, t]) => (seen.has(t) ? false : (seen.add(t), true)));
}

/** Runs its children in order; children are named "0", "1", ... as in PyTorch. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }
  forward(x: Tensor): Tensor {
    for (const m of this.layers) x = m.forward(x);
    return x;
  }
}
