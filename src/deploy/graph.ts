// The network inside a packed model: nodes in execution order over numbered
// values (0 is the input image). Shapes exclude the batch dimension.
// validateGraph checks everything the engine relies on, so that a damaged or
// hand-edited file is a clear DataError, not a crash deep inside a kernel.
import { DataError } from '../util/errors.js';
import type { SectionArray } from './format.js';
import { outSize } from '../native/api.js';

export interface GraphNode {
  op: string;
  in: number[];
  out: number;
  shape: number[];
  [attr: string]: unknown;
}

export interface PackedGraph {
  input: { shape: [number, number, number]; mean: number[]; std: number[] };
  nodes: GraphNode[];
  output: number;
  outputShape: number[];
  [meta: string]: unknown;
}

const OPS = new Set(['conv2d', 'linear', 'affine', 'relu', 'hardtanh', 'prelu', 'sigmoid', 'add', 'maxpool2d', 'avgpool2d', 'global_avgpool', 'reshape', 'subsample_pad', 'sign']);
const posInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const pair = (v: unknown, min: number): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every((x) => Number.isSafeInteger(x) && x >= min && x <= 4096);
/** Elements of a shape. */
export const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const size = numel;

/** Checks the graph against its sections; returns it typed. `name` labels errors. */
export function validateGraph(g: unknown, sections: Map<string, SectionArray>, name = 'model'): PackedGraph {
  const bad = (why: string) => new DataError(`${name}: ${why}`);
  if (typeof g !== 'object' || g === null) throw bad('no graph in the header');
  const graph = g as PackedGraph;
  const inp = graph.input;
  if (!inp || !Array.isArray(inp.shape) || inp.shape.length !== 3 || !inp.shape.every(posInt) || size(inp.shape) > 1 << 26) throw bad('bad input shape');
  const c = inp.shape[0];
  for (const k of ['mean', 'std'] as const) {
    if (!Array.isArray(inp[k]) || inp[k].length !== c || !inp[k].every((v) => typeof v === 'number' && Number.isFinite(v))) throw bad(`input ${k} must have ${c} finite numbers`);
  }
  if (inp.std.some((v) => v === 0)) throw bad('input std has a zero');
  if (!Array.isArray(graph.nodes) || graph.nodes.length === 0 || graph.nodes.length > 100000) throw bad('graph has no nodes');
  const shapes = new Map<number, number[]>([[0, inp.shape]]);
  // Parameters are [offset, length] ranges of the "floats" (f32) or "bits" (u32) section.
  const sectionOf = (node: GraphNode, key: string, type: 'f32' | 'u32', len: number | null) => {
    const r = node[key], sec = sections.get(type === 'f32' ? 'floats' : 'bits');
    if (!sec || (type === 'f32') !== (sec instanceof Float32Array) || (type === 'u32') !== (sec instanceof Uint32Array)) throw bad(`no ${type === 'f32' ? 'floats' : 'bits'} section of the right type`);
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => Number.isSafeInteger(v) && v >= 0) || r[0] + r[1] > sec.length) throw bad(`${node.op} node ${node.out}: bad range for ${key}`);
    if (len !== null && r[1] !== len) throw bad(`${node.op} node ${node.out}: ${key} has ${r[1]} values, needs ${len}`);
  };
  for (const node of graph.nodes) {
    if (typeof node !== 'object' || node === null || !OPS.has(node.op)) throw bad(`unknown op ${JSON.stringify((node as GraphNode)?.op)}`);
    if (!Array.isArray(node.in) || node.in.length < 1 || node.in.length > 2 || !node.in.every((v) => shapes.has(v))) throw bad(`${node.op} node: inputs must be earlier values`);
    if (!Number.isSafeInteger(node.out) || shapes.has(node.out)) throw bad(`${node.op} node: output id must be new`);
    if (!Array.isArray(node.shape) || node.shape.length < 1 || node.shape.length > 3 || !node.shape.every(posInt) || size(node.shape) > 1 << 26) throw bad(`${node.op} node ${node.out}: bad shape`);
    const ins = node.in.map((v) => shapes.get(v)!), x = ins[0];
    const expect = (ok: boolean, what: string) => { if (!ok) throw bad(`${node.op} node ${node.out}: ${what}`); };
    expect(node.in.length === (node.op === 'add' ? 2 : 1), `takes ${node.op === 'add' ? 2 : 1} input(s)`);
    if (node.op === 'conv2d' || node.op === 'linear') {
      expect(posInt(node.cout) && posInt(node.cin), 'bad channel counts');
      const cout = node.cout as number, cin = node.cin as number;
      let k = cin;
      if (node.op === 'conv2d') {
        expect(x.length === 3 && x[0] === cin && pair(node.kernel, 1) && pair(node.stride, 1) && pair(node.padding, 0), 'bad conv geometry');
        const [kh, kw] = node.kernel as number[], [sh, sw] = node.stride as number[], [ph, pw] = node.padding as number[];
        const oh = outSize(x[1], kh, sh, ph), ow = outSize(x[2], kw, sw, pw);
        expect(oh >= 1 && ow >= 1 && node.shape.length === 3 && node.shape[0] === cout && node.shape[1] === oh && node.shape[2] === ow, 'output shape does not match the geometry');
        expect(kh * kw <= 64, 'at most 64 kernel taps');
        k = cin * kh * kw;
      } else {
        expect(x.length === 1 && x[0] === cin && node.shape.length === 1 && node.shape[0] === cout, 'bad linear shapes');
      }
      expect(node.input === 'float' || node.input === 'sign', 'input must be float or sign');
      if (node.weights === 'float') sectionOf(node, 'weight', 'f32', cout * k);
      else {
        expect(node.weights === 'binary' || node.weights === 'ternary', 'weights must be float, binary or ternary');
        sectionOf(node, 'bits', 'u32', cout * Math.ceil(k / 32));
        if (node.weights === 'ternary') sectionOf(node, 'mask', 'u32', cout * Math.ceil(k / 32));
        sectionOf(node, 'scale', 'f32', cout);
      }
      if (node.bias !== undefined) sectionOf(node, 'bias', 'f32', cout);
    } else if (node.op === 'affine') {
      sectionOf(node, 'scale', 'f32', x[0]); sectionOf(node, 'shift', 'f32', x[0]);
      expect(size(node.shape) === size(x), 'shape changed');
    } else if (node.op === 'prelu') {
      sectionOf(node, 'alpha', 'f32', x[0]);
      expect(size(node.shape) === size(x), 'shape changed');
    } else if (node.op === 'add') {
      expect(ins.length === 2 && size(ins[1]) === size(x) && size(node.shape) === size(x), 'operands differ in size');
    } else if (node.op === 'maxpool2d' || node.op === 'avgpool2d') {
      expect(x.length === 3 && pair(node.kernel, 1) && pair(node.stride, 1) && pair(node.padding, 0), 'bad pool geometry');
      const [kh, kw] = node.kernel as number[], [sh, sw] = node.stride as number[], [ph, pw] = node.padding as number[];
      expect(2 * ph <= kh && 2 * pw <= kw, 'padding over half the window');
      const oh = outSize(x[1], kh, sh, ph), ow = outSize(x[2], kw, sw, pw);
      expect(oh >= 1 && ow >= 1 && node.shape.length === 3 && node.shape[0] === x[0] && node.shape[1] === oh && node.shape[2] === ow, 'output shape does not match');
    } else if (node.op === 'global_avgpool') {
      expect(x.length === 3 && node.shape.length === 3 && node.shape[0] === x[0] && node.shape[1] === 1 && node.shape[2] === 1, 'bad shapes');
    } else if (node.op === 'subsample_pad') {
      expect(x.length === 3 && Number.isSafeInteger(node.pad) && (node.pad as number) >= 0, 'bad pad');
      expect(node.shape.length === 3 && node.shape[0] === x[0] + 2 * (node.pad as number) && node.shape[1] === Math.ceil(x[1] / 2) && node.shape[2] === Math.ceil(x[2] / 2), 'bad shapes');
    } else if (node.op === 'hardtanh') {
      expect(typeof node.lo === 'number' && typeof node.hi === 'number' && (node.lo as number) <= (node.hi as number), 'bad bounds');
      expect(size(node.shape) === size(x), 'shape changed');
    } else {
      // relu, sigmoid, sign, reshape: elementwise or a view.
      expect(size(node.shape) === size(x), 'size changed');
    }
    shapes.set(node.out, node.shape);
  }
  if (!shapes.has(graph.output)) throw bad('output is not a value of the graph');
  const out = shapes.get(graph.output)!;
  if (!Array.isArray(graph.outputShape) || graph.outputShape.length !== out.length || graph.outputShape.some((v, i) => v !== out[i])) throw bad('outputShape does not match the output value');
  return graph;
}
