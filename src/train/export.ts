// Exports a trained model as a packed graph (.ebnn): one traced forward pass
// in eval mode turns the model into a list of nodes; binary weights are
// packed one bit each (ternary ones with a second, mask bit), batch norms
// that directly follow a conv or linear layer are folded into its per-channel
// scale and bias, everything else stays float32. See docs/format.md.
import { Tensor, noGrad, traced, type InputMap, type TraceEvent } from '../autograd/index.js';
import type { Module } from '../nn/index.js';
import { isBinaryLayer, type BinaryConv2d, type BinaryLinear } from '../quant/index.js';
import type { SectionArray } from '../deploy/format.js';
import type { PackedModel } from '../deploy/engine.js';
import type { GraphNode, PackedGraph } from '../deploy/graph.js';
import { UserError } from '../util/errors.js';

/** Packs +-1/0 codes per filter: bit 1 means -1 (sign bits), mask bit 1 means non-zero. */
export function packCodes(codes: Int8Array, filters: number, filterSize: number, ternary: boolean): { bits: Uint32Array; mask: Uint32Array | null } {
  const words = Math.ceil(filterSize / 32);
  const bits = new Uint32Array(filters * words), mask = ternary ? new Uint32Array(filters * words) : null;
  for (let f = 0; f < filters; f++) {
    for (let i = 0; i < filterSize; i++) {
      const c = codes[f * filterSize + i], w = f * words + (i >> 5), b = 1 << (i & 31);
      if (c < 0) bits[w] |= b;
      if (mask && c !== 0) mask[w] |= b;
    }
  }
  return { bits, mask };
}

export interface ExportInput { shape: [number, number, number]; mean: number[]; std: number[] }

/** Traces `model` (eval mode) on one input of `input.shape` and builds the packed graph and its sections. */
export function exportModel(model: Module, input: ExportInput, meta: Record<string, unknown> = {}): { graph: PackedGraph; sections: Map<string, SectionArray> } {
  model.eval();
  const names = new Map<Float32Array, string>();
  for (const [n, t] of [...model.namedParameters(), ...model.namedBuffers()]) names.set(t.data, n);
  const binary = new Map<Float32Array, BinaryConv2d | BinaryLinear>();
  const binaryName = new Map<BinaryConv2d | BinaryLinear, string>();
  for (const [n, m] of model.namedModules()) {
    if (!isBinaryLayer(m)) continue;
    const bw = m.binaryWeight();
    binary.set(bw.values, m);
    binaryName.set(m, n);
  }
  const events: TraceEvent[] = [];
  const x = new Tensor(new Float32Array(input.shape[0] * input.shape[1] * input.shape[2]), [1, ...input.shape]);
  const out = noGrad(() => traced((e) => events.push(e), () => model.forward(x)));

  const ids = new Map<Tensor, number>([[x, 0]]);
  const arena = new Arena();
  const nodes: GraphNode[] = [];
  const value = (t: Tensor, op: string): number => {
    const id = ids.get(t);
    if (id === undefined) throw new UserError(`export: ${op} reads a tensor that is neither the input nor an op output (unsupported model)`);
    return id;
  };
  const paramName = (t: Tensor, fallback: string) => names.get(t.data) ?? fallback;
  // How many ops read each tensor (a batch norm folds only into a layer nothing else reads).
  const readers = new Map<Tensor, number>();
  for (const e of events) for (const t of e.inputs) readers.set(t, (readers.get(t) ?? 0) + 1);

  for (const [i, e] of events.entries()) {
    const id = i + 1;
    ids.set(e.output, id);
    const shape = e.output.shape.slice(1);
    const inp = (k: number) => value(e.inputs[k], e.op);
    if (e.op === 'conv2d' || e.op === 'linear') {
      const [, w, b] = e.inputs;
      const layer = binary.get(w.data);
      const name = layer ? binaryName.get(layer)! : paramName(w, `node${id}`).replace(/\.weight$/, '');
      const base: GraphNode = { op: e.op, in: [inp(0)], out: id, shape, name, cout: w.shape[0], cin: w.shape[1] };
      if (e.op === 'conv2d') Object.assign(base, { kernel: w.shape.slice(2), stride: e.attrs.stride, padding: e.attrs.padding });
      const map = e.attrs.inputMap as InputMap | null;
      if (map && map.kind !== 'sign') throw new UserError(`export: ${name} applies an input map other than sign, which has no packed form`);
      base.input = map ? 'sign' : 'float';
      if (layer) {
        const bw = layer.binaryWeight();
        const ternary = layer.weightQuantizer.ternary;
        const { bits, mask } = packCodes(bw.codes, bw.filters, bw.filterSize, ternary);
        base.weights = ternary ? 'ternary' : 'binary';
        base.bits = arena.bits(bits);
        if (mask) base.mask = arena.bits(mask);
        base.scale = arena.floats(bw.scales);
      } else {
        base.weights = 'float';
        base.weight = arena.floats(w.data);
      }
      if (b) base.bias = arena.floats(b.data);
      nodes.push(base);
      continue;
    }
    if (e.op === 'batchnorm') {
      const [xin, gamma, beta, mean, variance] = e.inputs;
      const eps = e.attrs.eps as number;
      const c = gamma.numel, a = new Float32Array(c), s = new Float32Array(c);
      for (let k = 0; k < c; k++) {
        const inv = 1 / Math.sqrt(variance.data[k] + eps);
        a[k] = gamma.data[k] * inv;
        s[k] = beta.data[k] - mean.data[k] * gamma.data[k] * inv;
      }
      const src = ids.get(xin)!, prev = nodes[nodes.length - 1];
      // Fold into the layer that produced the input when nothing else reads it.
      if (prev && prev.out === src && (prev.op === 'conv2d' || prev.op === 'linear') && readers.get(xin) === 1) {
        foldAffine(prev, a, s, arena);
        prev.out = id;
        ids.set(e.output, id);
        continue;
      }
      const name = paramName(gamma, `node${id}`).replace(/\.weight$/, '');
      nodes.push({ op: 'affine', in: [inp(0)], out: id, shape, name, scale: arena.floats(a), shift: arena.floats(s) });
      continue;
    }
    // PReLU's second input is its slopes, a parameter, not a value.
    const simple: GraphNode = { op: e.op, in: e.op === 'prelu' ? [inp(0)] : e.inputs.map((_, k) => inp(k)), out: id, shape };
    if (e.op === 'prelu') simple.alpha = arena.floats(e.inputs[1].data);
    else if (!['relu', 'hardtanh', 'sigmoid', 'add', 'maxpool2d', 'avgpool2d', 'global_avgpool', 'reshape', 'subsample_pad', 'sign'].includes(e.op)) {
      throw new UserError(`export: the op "${e.op}" has no packed form yet`);
    }
    Object.assign(simple, e.attrs);
    nodes.push(simple);
  }
  return {
    graph: { ...meta, input: { shape: input.shape, mean: input.mean, std: input.std }, nodes, output: value(out, 'output'), outputShape: out.shape.slice(1) },
    sections: arena.sections(),
  };
}

/**
 * The two data sections of a packed model: every float vector in one f32
 * section and every bit plane in one u32 section; nodes refer to them by
 * [offset, length]. Two sections instead of one per array keep the header
 * and the alignment padding small (a ResNet-20 has ~80 arrays).
 */
export class Arena {
  private f: Float32Array[] = [];
  private b: Uint32Array[] = [];
  private fLen = 0;
  private bLen = 0;
  floats(a: Float32Array): [number, number] { this.f.push(a.slice()); this.fLen += a.length; return [this.fLen - a.length, a.length]; }
  bits(a: Uint32Array): [number, number] { this.b.push(a); this.bLen += a.length; return [this.bLen - a.length, a.length]; }
  /** The float vector at a range, for in-place edits (folding). */
  floatView([off, len]: [number, number]): Float32Array {
    let at = 0;
    for (const a of this.f) { if (at === off && a.length === len) return a; at += a.length; }
    throw new Error('Arena: no such float range');
  }
  sections(): Map<string, SectionArray> {
    const join = <T extends Float32Array | Uint32Array>(parts: T[], make: (n: number) => T) => {
      const out = make(parts.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of parts) { out.set(p, at); at += p.length; }
      return out;
    };
    return new Map<string, SectionArray>([['floats', join(this.f, (n) => new Float32Array(n))], ['bits', join(this.b, (n) => new Uint32Array(n))]]);
  }
}

/** y' = a * y + s folded into a conv/linear node: per output channel scale and bias. */
function foldAffine(node: GraphNode, a: Float32Array, s: Float32Array, arena: Arena): void {
  const cout = node.cout as number;
  const bias = new Float32Array(cout);
  const old = node.bias ? arena.floatView(node.bias as [number, number]) : null;
  for (let k = 0; k < cout; k++) bias[k] = a[k] * (old ? old[k] : 0) + s[k];
  if (node.weights === 'float') {
    const w = arena.floatView(node.weight as [number, number]), per = w.length / cout;
    for (let k = 0; k < cout; k++) for (let j = 0; j < per; j++) w[k * per + j] *= a[k];
  } else {
    const sc = arena.floatView(node.scale as [number, number]);
    for (let k = 0; k < cout; k++) sc[k] *= a[k];
  }
  if (old) old.set(bias);
  else node.bias = arena.floats(bias);
}

/**
 * Why the packed model and the training forward disagree on one input: the
 * first binarisation point (the input of a sign node or of a 1W/1A layer, in
 * graph order) where some activation has a different sign in the two, how
 * many there, and the largest |value| among them. Later points differ as a
 * consequence. Values within float32 rounding of 0 mean the disagreement
 * comes from a sign decided at the threshold by rounding (folded batch norm,
 * summation order), not from a bug.
 */
export function binarizationFlips(model: Module, engine: PackedModel, x: Float32Array): { node: number; flips: number; maxAbs: number; points: number } {
  const events: TraceEvent[] = [];
  noGrad(() => traced((e) => events.push(e), () => model.forward(new Tensor(x, [1, ...engine.inputShape]))));
  const train = new Map<number, Float32Array>([[0, x]]);
  events.forEach((e, i) => train.set(i + 1, e.output.data));
  const packed = new Map<number, Float32Array>();
  engine.run(x, 1, packed);
  for (const node of engine.graph.nodes) {
    if (!(node.op === 'sign' || ((node.op === 'conv2d' || node.op === 'linear') && node.input === 'sign'))) continue;
    const a = train.get(node.in[0]), b = packed.get(node.in[0]);
    if (!a || !b || a.length !== b.length) continue;
    let flips = 0, maxAbs = 0;
    for (let i = 0; i < a.length; i++) {
      if ((a[i] < 0) === (b[i] < 0)) continue;
      flips++;
      maxAbs = Math.max(maxAbs, Math.abs(a[i]), Math.abs(b[i]));
    }
    if (flips) return { node: node.out, flips, maxAbs, points: a.length };
  }
  return { node: -1, flips: 0, maxAbs: 0, points: 0 };
}
