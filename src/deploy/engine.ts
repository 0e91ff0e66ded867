// The packed inference engine, first version: loads a .ebnn file and runs
// its graph on a Kernels backend (the native addon, or the TypeScript
// reference where the addon cannot load, e.g. in browsers). 1W/1A layers run
// as XNOR + popcount on the binary codes; 1W/32A and ternary layers use the
// codes expanded to scale * code once at load. Browser-safe: no Node imports.
import type { Kernels, ConvGeometry } from '../native/api.js';
import { decodePacked, type SectionArray } from './format.js';
import { validateGraph, type GraphNode, type PackedGraph } from './graph.js';

/** Unpacks per-filter sign bits (and mask bits for ternary) into -1/0/+1 codes. */
export function unpackCodes(bits: Uint32Array, mask: Uint32Array | null, filters: number, filterSize: number): Int8Array {
  const words = Math.ceil(filterSize / 32), codes = new Int8Array(filters * filterSize);
  for (let f = 0; f < filters; f++) {
    for (let i = 0; i < filterSize; i++) {
      const w = f * words + (i >> 5), b = 1 << (i & 31);
      codes[f * filterSize + i] = mask && !(mask[w] & b) ? 0 : bits[w] & b ? -1 : 1;
    }
  }
  return codes;
}

interface Layer {
  node: GraphNode;
  /** conv2d / linear: codes for the XNOR path, or float weights (scale * code, or stored floats). */
  codes?: Int8Array;
  scale?: Float32Array;
  weight?: Float32Array;
  bias?: Float32Array | null;
  /** affine / prelu parameters. */
  a?: Float32Array;
  b?: Float32Array;
}

export class PackedModel {
  readonly graph: PackedGraph;
  private readonly layers: Layer[];

  private constructor(graph: PackedGraph, sections: Map<string, SectionArray>, private readonly k: Kernels) {
    this.graph = graph;
    const floats = sections.get('floats') as Float32Array, bits = sections.get('bits') as Uint32Array;
    const f32 = (n: GraphNode, key: string) => { const [o, l] = n[key] as number[]; return floats.subarray(o, o + l); };
    const u32 = (n: GraphNode, key: string) => { const [o, l] = n[key] as number[]; return bits.subarray(o, o + l); };
    this.layers = graph.nodes.map((node) => {
      const layer: Layer = { node };
      if (node.op === 'conv2d' || node.op === 'linear') {
        const cout = node.cout as number;
        const k = node.op === 'conv2d' ? (node.cin as number) * (node.kernel as number[])[0] * (node.kernel as number[])[1] : (node.cin as number);
        layer.bias = node.bias ? f32(node, 'bias') : null;
        if (node.weights === 'float') layer.weight = f32(node, 'weight');
        else {
          const codes = unpackCodes(u32(node, 'bits'), node.mask ? u32(node, 'mask') : null, cout, k);
          layer.scale = f32(node, 'scale');
          if (node.input === 'sign' && node.weights === 'binary') layer.codes = codes;
          else { layer.weight = new Float32Array(cout * k); this.k.codesToWeights(cout, k, codes, layer.scale, layer.weight); }
        }
      } else if (node.op === 'affine') {
        layer.a = f32(node, 'scale'); layer.b = f32(node, 'shift');
      } else if (node.op === 'prelu') {
        layer.a = f32(node, 'alpha');
      }
      return layer;
    });
  }

  /** Parses, checks and prepares a packed model; `name` labels errors. */
  static load(bytes: Uint8Array, kernels: Kernels, name = 'model'): PackedModel {
    const file = decodePacked(bytes, name);
    return new PackedModel(validateGraph(file.graph, file.sections, name), file.sections, kernels);
  }

  get inputShape(): [number, number, number] { return this.graph.input.shape; }
  get outputSize(): number { return this.graph.outputShape.reduce((a, b) => a * b, 1); }

  /**
   * Runs n normalised inputs [n, c, h, w]; returns the outputs [n, outputSize].
   * With `keep`, every value of the graph is left in it by id (for checks).
   */
  run(x: Float32Array, n: number, keep?: Map<number, Float32Array>): Float32Array {
    const values = new Map<number, Float32Array>([[0, x]]);
    const shapes = new Map<number, number[]>([[0, this.graph.input.shape]]);
    for (const layer of this.layers) {
      const node = layer.node, ins = node.in.map((v) => values.get(v)!), shape = shapes.get(node.in[0])!;
      const outLen = n * node.shape.reduce((a, b) => a * b, 1);
      let y = node.op === 'reshape' ? ins[0] : new Float32Array(outLen);
      this.apply(layer, ins, shape, n, y);
      if (node.op === 'reshape') y = ins[0];
      values.set(node.out, y);
      shapes.set(node.out, node.shape);
    }
    if (keep) for (const [id, v] of values) keep.set(id, v);
    return values.get(this.graph.output)!;
  }

  private apply(layer: Layer, ins: Float32Array[], shape: number[], n: number, y: Float32Array): void {
    const k = this.k, node = layer.node, x = ins[0], len = x.length;
    const [c, h, w] = shape.length === 3 ? shape : [shape[0], 1, 1];
    switch (node.op) {
      case 'conv2d': case 'linear': {
        const [kh, kw] = node.op === 'conv2d' ? node.kernel as number[] : [1, 1];
        const [sh, sw] = node.op === 'conv2d' ? node.stride as number[] : [1, 1];
        const [ph, pw] = node.op === 'conv2d' ? node.padding as number[] : [0, 0];
        const g: ConvGeometry = { n, cin: node.cin as number, h, w, cout: node.cout as number, kh, kw, sh, sw, ph, pw };
        if (layer.codes) return k.xnorConv2dForward(g, x, layer.codes, layer.scale!, layer.bias ?? null, y);
        let xin = x;
        if (node.input === 'sign') { xin = new Float32Array(len); k.signForward(len, x, xin); }
        if (node.op === 'linear') {
          k.sgemm(false, true, n, g.cout, g.cin, 1, xin, layer.weight!, 0, y);
          if (layer.bias) k.biasAdd(n, g.cout, 1, layer.bias, y);
          return;
        }
        return k.conv2dForward(g, xin, layer.weight!, layer.bias ?? null, y);
      }
      case 'affine':
        k.channelScale(n, c, h * w, x, layer.a!, y);
        return k.biasAdd(n, c, h * w, layer.b!, y);
      case 'prelu': return k.prelu(n, c, h * w, x, layer.a!, y);
      case 'relu': return k.relu(len, x, y);
      case 'hardtanh': return k.hardtanh(len, x, node.lo as number, node.hi as number, y);
      case 'sign': return k.signForward(len, x, y);
      case 'add': return k.add(len, x, ins[1], y);
      case 'sigmoid': for (let i = 0; i < len; i++) y[i] = 1 / (1 + Math.exp(-x[i])); return;
      case 'maxpool2d': case 'avgpool2d': {
        const [kh, kw] = node.kernel as number[], [sh, sw] = node.stride as number[], [ph, pw] = node.padding as number[];
        const g = { n, c, h, w, kh, kw, sh, sw, ph, pw };
        if (node.op === 'avgpool2d') return k.avgPool2dForward(g, x, y);
        return k.maxPool2dForward(g, x, y, new Int32Array(y.length));
      }
      case 'global_avgpool': return k.globalAvgPoolForward(n, c, h * w, x, y);
      case 'subsample_pad': {
        const pad = node.pad as number, oc = c + 2 * pad, oh = Math.ceil(h / 2), ow = Math.ceil(w / 2);
        y.fill(0);
        for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
          const src = (b * c + ch) * h * w, dst = (b * oc + ch + pad) * oh * ow;
          for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) y[dst + i * ow + j] = x[src + 2 * i * w + 2 * j];
        }
        return;
      }
      case 'reshape': return;
      default: throw new Error(`unreachable: op ${node.op}`);
    }
  }
}
