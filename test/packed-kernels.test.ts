// The packed kernels (native/packed/, src/deploy/js-kernels.ts): every
// backend and instruction set gives the same bits on one-layer models of many
// shapes; the XNOR conv equals an integer reference exactly and the float
// convs match the reference conv; the committed WebAssembly module is the
// build of the current sources.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { encodePacked, type SectionArray } from '../src/deploy/format.js';
import type { GraphNode, PackedGraph } from '../src/deploy/graph.js';
import { PackedModel } from '../src/deploy/engine.js';
import { WasmBackend, type PackedBackend } from '../src/deploy/backends.js';
import { loadWasmModule, nativeAddon, onWorkerThread, packedBackend, threadedWasmBackend } from '../src/deploy/node-backends.js';
import { OP, paddingPatterns } from '../src/deploy/plan.js';
import { referenceKernels } from '../src/native/index.js';
import { outSize } from '../src/native/api.js';
import { Rng, assertClose } from './helpers.js';

const root = new URL('..', new URL('..', import.meta.url)).pathname;

interface Layer { graph: PackedGraph; sections: Map<string, SectionArray>; codes?: Int8Array; weight?: Float32Array; scale?: Float32Array; bias?: Float32Array | null }

/** A model of one node (plus what the test needs to recompute it). */
function oneNode(rng: Rng, shape: [number, number, number], node: Omit<GraphNode, 'in' | 'out'>, params: Record<string, Float32Array | Uint32Array>): Layer {
  const floats: number[] = [], bits: number[] = [];
  const n: GraphNode = { ...node, in: [0], out: 1 } as GraphNode;
  for (const [k, v] of Object.entries(params)) {
    const into = v instanceof Float32Array ? floats : bits;
    n[k] = [into.length, v.length];
    into.push(...v);
  }
  void rng;
  const graph: PackedGraph = { input: { shape, mean: Array(shape[0]).fill(0), std: Array(shape[0]).fill(1) }, nodes: [n], output: 1, outputShape: node.shape as number[] };
  return { graph, sections: new Map<string, SectionArray>([['floats', Float32Array.from(floats)], ['bits', Uint32Array.from(bits.length ? bits : [0])]]) };
}

/** Random -1/0/+1 codes packed as the file stores them (1 = -1; mask 1 = non-zero). */
function randomCodes(rng: Rng, filters: number, k: number, ternary: boolean) {
  const codes = new Int8Array(filters * k), wpf = Math.ceil(k / 32);
  const bits = new Uint32Array(filters * wpf), mask = new Uint32Array(filters * wpf);
  for (let f = 0; f < filters; f++) for (let i = 0; i < k; i++) {
    const c = ternary && rng.uniform() < 0.4 ? 0 : rng.uniform() < 0.5 ? -1 : 1;
    codes[f * k + i] = c;
    if (c < 0) bits[f * wpf + (i >> 5)] |= 1 << (i & 31);
    if (c !== 0) mask[f * wpf + (i >> 5)] |= 1 << (i & 31);
  }
  return { codes, bits, mask };
}

interface ConvCase { cin: number; h: number; w: number; cout: number; k: [number, number]; s: [number, number]; p: [number, number]; input: 'sign' | 'float'; weights: 'binary' | 'ternary' | 'float'; bias: boolean; n: number; linear?: boolean }

function convLayer(rng: Rng, c: ConvCase): Layer {
  const K = c.cin * c.k[0] * c.k[1];
  const oh = outSize(c.h, c.k[0], c.s[0], c.p[0]), ow = outSize(c.w, c.k[1], c.s[1], c.p[1]);
  const node: Omit<GraphNode, 'in' | 'out'> = c.linear
    ? { op: 'linear', shape: [c.cout], cin: c.cin, cout: c.cout, input: c.input, weights: c.weights }
    : { op: 'conv2d', shape: [c.cout, oh, ow], cin: c.cin, cout: c.cout, kernel: c.k, stride: c.s, padding: c.p, input: c.input, weights: c.weights };
  const params: Record<string, Float32Array | Uint32Array> = {};
  const out: Partial<Layer> = {};
  if (c.weights === 'float') {
    params.weight = out.weight = rng.fillNormal(new Float32Array(c.cout * K), 0, 0.3);
  } else {
    const r = randomCodes(rng, c.cout, K, c.weights === 'ternary');
    out.codes = r.codes;
    params.bits = r.bits;
    if (c.weights === 'ternary') params.mask = r.mask;
    params.scale = out.scale = Float32Array.from({ length: c.cout }, () => 0.05 + rng.uniform());
  }
  out.bias = c.bias ? rng.fillNormal(new Float32Array(c.cout)) : null;
  if (out.bias) params.bias = out.bias;
  const shape: [number, number, number] = c.linear ? [c.cin, 1, 1] : [c.cin, c.h, c.w];
  const layer = oneNode(rng, shape, node, params);
  if (c.linear) {
    // Linear layers read a flat vector: reshape first, as exported models do.
    const lin = layer.graph.nodes[0];
    layer.graph.nodes = [{ op: 'reshape', in: [0], out: 1, shape: [c.cin] }, { ...lin, in: [1], out: 2 }];
    layer.graph.output = 2;
  }
  return { ...layer, ...out } as Layer;
}

// The threaded WebAssembly backend (2 threads): one for the whole file, as
// each starts a worker thread; its models run one after another.
let threaded: WasmBackend | null = null;
const threadedWasm = () => (threaded ??= threadedWasmBackend(2));
after(() => threaded?.close());

// Each backend and, natively, each instruction set this CPU runs.
function engines(): { name: string; backend: () => PackedBackend; before?: () => void }[] {
  const addon = nativeAddon(), list: { name: string; backend: () => PackedBackend; before?: () => void }[] = [];
  for (const isa of ['portable', 'avx2', 'avx512']) {
    try { addon.setPackedIsa(isa); } catch { continue; }
    list.push({ name: `native/${isa}`, backend: () => packedBackend('native'), before: () => addon.setPackedIsa(isa) });
  }
  addon.setPackedIsa('');
  list.push({ name: 'wasm/tuned', backend: () => packedBackend('wasm') });
  list.push({ name: 'wasm/portable', backend: () => new WasmBackend(loadWasmModule(), { tuned: false }) });
  list.push({ name: 'wasm/threads', backend: threadedWasm });
  list.push({ name: 'js', backend: () => packedBackend('js') });
  return list;
}

function runAll(layer: Layer, x: Float32Array, n: number): Map<string, Float32Array> {
  const bytes = encodePacked(layer.graph, layer.sections), outs = new Map<string, Float32Array>();
  for (const e of engines()) {
    e.before?.();
    outs.set(e.name, PackedModel.load(bytes, e.backend(), 'test').run(x, n));
  }
  nativeAddon().setPackedIsa('');
  return outs;
}

function assertSameBits(outs: Map<string, Float32Array>, what: string): Float32Array {
  const [first, want] = [...outs][0];
  for (const [name, got] of outs) assert.deepEqual(new Uint32Array(got.buffer, got.byteOffset, got.length), new Uint32Array(want.buffer, want.byteOffset, want.length), `${what}: ${name} vs ${first}`);
  return want;
}

const convCases: ConvCase[] = [];
{
  const rng = new Rng(11);
  const geo = [
    { cin: 64, h: 12, w: 12, k: [3, 3], s: [1, 1], p: [1, 1] }, { cin: 128, h: 6, w: 5, k: [3, 3], s: [2, 2], p: [1, 1] },
    { cin: 1, h: 9, w: 7, k: [5, 5], s: [1, 1], p: [2, 2] }, { cin: 3, h: 8, w: 8, k: [3, 3], s: [1, 1], p: [1, 1] },
    { cin: 65, h: 7, w: 9, k: [3, 1], s: [1, 2], p: [1, 0] }, { cin: 130, h: 4, w: 4, k: [1, 1], s: [1, 1], p: [0, 0] },
    { cin: 16, h: 11, w: 10, k: [8, 8], s: [1, 1], p: [3, 3] }, { cin: 40, h: 20, w: 20, k: [3, 3], s: [1, 1], p: [1, 1] },
    // Several taps per field word (cin <= 32): 2, 4 and 8 taps of 32, 16 and 8 bits.
    { cin: 32, h: 10, w: 9, k: [3, 3], s: [2, 1], p: [1, 1] }, { cin: 17, h: 6, w: 6, k: [5, 5], s: [1, 1], p: [2, 2] },
    { cin: 5, h: 12, w: 7, k: [3, 3], s: [1, 1], p: [0, 1] }, { cin: 16, h: 9, w: 16, k: [3, 3], s: [1, 1], p: [1, 1] },
  ] as const;
  for (const [i, g] of geo.entries()) {
    for (const [input, weights] of [['sign', 'binary'], ['sign', 'ternary'], ['float', 'binary'], ['float', 'ternary'], ['float', 'float'], ['sign', 'float']] as const) {
      convCases.push({ ...g, k: [...g.k], s: [...g.s], p: [...g.p], cout: [5, 33, 64, 7][(i + convCases.length) % 4], input, weights, bias: rng.uniform() < 0.7, n: 1 + (i % 3) });
    }
  }
  for (const [input, weights] of [['sign', 'binary'], ['float', 'binary'], ['float', 'float'], ['sign', 'ternary']] as const) {
    for (const n of [1, 5]) convCases.push({ cin: 300, h: 1, w: 1, cout: 37, k: [1, 1], s: [1, 1], p: [0, 0], input, weights, bias: true, n, linear: true });
  }
}

test('packed convs and linears: every backend and instruction set gives the same bits, and the reference values', () => {
  const rng = new Rng(5);
  for (const c of convCases) {
    const layer = convLayer(rng, c), what = JSON.stringify(c);
    const x = rng.fillNormal(new Float32Array(c.n * c.cin * (c.linear ? 1 : c.h * c.w)));
    // Exact zeros and negative zeros: sign(0) = sign(-0) = +1.
    for (let i = 0; i < x.length; i += 17) x[i] = i % 2 ? -0 : 0;
    const got = assertSameBits(runAll(layer, x, c.n), what);
    // The reference: the same conv in float with the weights as codes (or floats), inputs as signs where the layer says so.
    const K = c.cin * c.k[0] * c.k[1];
    const xin = c.input === 'sign' ? Float32Array.from(x, (v) => (v < 0 ? -1 : 1)) : x;
    const w = c.weights === 'float' ? layer.weight! : Float32Array.from(layer.codes!);
    const oh = c.linear ? 1 : outSize(c.h, c.k[0], c.s[0], c.p[0]), ow = c.linear ? 1 : outSize(c.w, c.k[1], c.s[1], c.p[1]);
    const raw = new Float32Array(c.n * c.cout * oh * ow);
    if (c.linear) referenceKernels.sgemm(false, true, c.n, c.cout, K, 1, xin, w, 0, raw);
    else referenceKernels.conv2dForward({ n: c.n, cin: c.cin, h: c.h, w: c.w, cout: c.cout, kh: c.k[0], kw: c.k[1], sh: c.s[0], sw: c.s[1], ph: c.p[0], pw: c.p[1] }, xin, w, null, raw);
    const want = new Float32Array(raw.length), plane = oh * ow;
    for (let i = 0; i < raw.length; i++) {
      const f = Math.floor(i / plane) % c.cout;
      let v = raw[i];
      if (layer.scale) v = Math.fround(layer.scale[f] * v);
      if (layer.bias) v = Math.fround(v + layer.bias[f]);
      want[i] = v;
    }
    // Sums of +-1 (and +-x for 1W/32A with exact codes) are exact integers for sign inputs: equal bits.
    if (c.input === 'sign' && c.weights !== 'float') assert.deepEqual(got, want, what);
    else assertClose(got, want, { rtol: 1e-4, atol: 1e-4 }, what);
  }
  // The threaded wasm backend's equal bits count only if its worker ran tasks (it took
  // no part until it had started; threadedWasmBackend waits for that).
  assert.ok(threadedWasm().workerTasks() > 0, 'the wasm worker thread ran no task');
});

test('packed elementwise ops and pools: every backend gives the same bits as the formula', () => {
  const rng = new Rng(8);
  const shape: [number, number, number] = [6, 9, 7], len = 6 * 9 * 7, n = 3;
  const x = rng.fillNormal(new Float32Array(n * len), 0, 3);
  x[0] = 0; x[1] = -0; x[2] = 100; x[3] = -200; x[4] = 88.7; x[5] = -104;
  const a = Float32Array.from({ length: 6 }, () => rng.uniform() - 0.3), b = rng.fillNormal(new Float32Array(6));
  const cases: [Omit<GraphNode, 'in' | 'out'>, Record<string, Float32Array>, ((v: number, c: number) => number) | null][] = [
    [{ op: 'affine', shape }, { scale: a, shift: b }, (v, c) => Math.fround(Math.fround(v * a[c]) + b[c])],
    [{ op: 'prelu', shape }, { alpha: a }, (v, c) => (v > 0 ? v : Math.fround(a[c] * v))],
    [{ op: 'relu', shape }, {}, (v) => (v > 0 ? v : 0)],
    [{ op: 'sign', shape }, {}, (v) => (v < 0 ? -1 : 1)],
    [{ op: 'hardtanh', shape, lo: -1.5, hi: 0.75 }, {}, (v) => Math.min(0.75, Math.max(-1.5, v))],
    [{ op: 'sigmoid', shape }, {}, null],
    [{ op: 'maxpool2d', shape: [6, 5, 4], kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, {}, null],
    [{ op: 'avgpool2d', shape: [6, 4, 3], kernel: [2, 2], stride: [2, 2], padding: [0, 0] }, {}, null],
    [{ op: 'global_avgpool', shape: [6, 1, 1] }, {}, null],
    [{ op: 'subsample_pad', shape: [10, 5, 4], pad: 2 }, {}, null],
  ];
  for (const [node, params, formula] of cases) {
    const got = assertSameBits(runAll(oneNode(rng, shape, node, params), x, n), node.op as string);
    if (formula) for (let i = 0; i < got.length; i++) assert.equal(got[i], formula(x[i], Math.floor(i / 63) % 6), `${node.op} at ${i}`);
    if (node.op === 'sigmoid') for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - 1 / (1 + Math.exp(-x[i]))) <= 2e-7, `sigmoid(${x[i]}) = ${got[i]}`);
    if (node.op === 'global_avgpool') for (let p = 0; p < n * 6; p++) assert.ok(Math.abs(got[p] - x.subarray(p * 63, p * 63 + 63).reduce((s, v) => s + v, 0) / 63) < 1e-5);
  }
  // add: two inputs.
  const add = oneNode(rng, shape, { op: 'add', shape }, {});
  add.graph.nodes = [{ op: 'relu', in: [0], out: 1, shape }, { op: 'add', in: [0, 1], out: 2, shape }];
  add.graph.output = 2;
  const got = assertSameBits(runAll(add, x, n), 'add');
  for (let i = 0; i < got.length; i++) assert.equal(got[i], Math.fround(x[i] + (x[i] > 0 ? x[i] : 0)));
});

test('padding patterns: each output pixel gets exactly the taps that leave the image, each pattern once', () => {
  const geos = [{ h: 32, w: 32, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 }, { h: 7, w: 9, kh: 3, kw: 1, sh: 1, sw: 2, ph: 1, pw: 0 },
    { h: 9, w: 7, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2 }, { h: 6, w: 5, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
    { h: 4, w: 4, kh: 8, kw: 8, sh: 1, sw: 1, ph: 4, pw: 4 }, { h: 5, w: 5, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0 }];
  for (const g of geos) {
    const { pid, patterns } = paddingPatterns(g);
    const oh = outSize(g.h, g.kh, g.sh, g.ph), ow = outSize(g.w, g.kw, g.sw, g.pw);
    assert.equal(pid === null, g.ph === 0 && g.pw === 0, 'no pattern ids without padding');
    assert.equal(new Set(patterns.map((t) => t.join())).size, patterns.length, 'patterns are distinct');
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const want: number[] = [];
        for (let ky = 0, t = 0; ky < g.kh; ky++) {
          for (let kx = 0; kx < g.kw; kx++, t++) {
            const iy = oy * g.sh - g.ph + ky, ix = ox * g.sw - g.pw + kx;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) want.push(t);
          }
        }
        assert.deepEqual(patterns[pid ? pid[oy * ow + ox] : 0], want, `${JSON.stringify(g)} at ${oy},${ox}`);
      }
    }
  }
});

test('PReLU -> affine -> add chains run as one pass with the same bits as the steps one by one', () => {
  const rng = new Rng(9);
  const shape: [number, number, number] = [6, 9, 7], n = 3;
  const x = rng.fillNormal(new Float32Array(n * 6 * 63), 0, 3);
  const al = Float32Array.from({ length: 6 }, () => rng.uniform() - 0.3), sc = rng.fillNormal(new Float32Array(6)), sh = rng.fillNormal(new Float32Array(6));
  const layer = oneNode(rng, shape, { op: 'prelu', shape }, { alpha: al, scale: sc, shift: sh });
  const [alpha, scale, shift] = ['alpha', 'scale', 'shift'].map((k) => layer.graph.nodes[0][k]);
  const relu: GraphNode = { op: 'relu', in: [0], out: 1, shape };
  const chains: [string, GraphNode[], (v: number, r: number, c: number) => number][] = [
    ['prelu affine add', [relu, { op: 'prelu', in: [1], out: 2, shape, alpha }, { op: 'affine', in: [2], out: 3, shape, scale, shift }, { op: 'add', in: [3, 1], out: 4, shape }],
      (v, r, c) => Math.fround(Math.fround(Math.fround((v > 0 ? v : Math.fround(al[c] * v)) * sc[c]) + sh[c]) + r)],
    ['residual first', [relu, { op: 'affine', in: [1], out: 2, shape, scale, shift }, { op: 'add', in: [1, 2], out: 3, shape }],
      (v, r, c) => Math.fround(r + Math.fround(Math.fround(v * sc[c]) + sh[c]))],
    ['prelu affine', [relu, { op: 'prelu', in: [1], out: 2, shape, alpha }, { op: 'affine', in: [2], out: 3, shape, scale, shift }],
      (v, _r, c) => Math.fround(Math.fround((v > 0 ? v : Math.fround(al[c] * v)) * sc[c]) + sh[c])],
  ];
  for (const [what, nodes, formula] of chains) {
    layer.graph.nodes = nodes;
    layer.graph.output = nodes[nodes.length - 1].out;
    const got = assertSameBits(runAll(layer, x, n), what);
    for (let i = 0; i < got.length; i++) {
      const r = x[i] > 0 ? x[i] : 0;
      assert.equal(got[i], formula(r, r, Math.floor(i / 63) % 6), `${what} at ${i}`);
    }
    // The plan that keeps every value runs the steps one by one: same bits.
    const model = PackedModel.load(encodePacked(layer.graph, layer.sections), packedBackend('native'), 'chain');
    const kept = model.run(x, n, new Map()), fused = model.run(x, n);
    assert.deepEqual(new Uint32Array(kept.buffer), new Uint32Array(fused.buffer), what);
    assert.equal(model.currentPlan()!.words.length, 5 + 12, `${what}: the relu, then one record for the chain`);
  }
});

test('a batch norm (and sign-keeping clamps) read only by binary layers is folded into their binarisation: same bits as running it', () => {
  const rng = new Rng(10);
  const conv = convLayer(rng, { cin: 70, h: 6, w: 5, cout: 9, k: [3, 3], s: [1, 1], p: [1, 1], input: 'sign', weights: 'binary', bias: true, n: 2 });
  const floats = conv.sections.get('floats') as Float32Array, at = floats.length;
  const scale = Float32Array.from({ length: 70 }, (_, c) => (c % 3 === 0 ? -1 : 1) * (0.2 + rng.uniform()));
  const shift = rng.fillNormal(new Float32Array(70), 0, 0.5);
  conv.sections.set('floats', Float32Array.from([...floats, ...scale, ...shift]));
  const shape = [70, 6, 5], oshape = conv.graph.nodes[0].shape, base = conv.graph.nodes[0];
  const affine: GraphNode = { op: 'affine', in: [0], out: 1, shape, scale: [at, 70], shift: [at + 70, 70] };
  const clamp = (lo: number, hi: number, i: number, o: number): GraphNode => ({ op: 'hardtanh', in: [i], out: o, shape, lo, hi });
  const layer = (i: number, o: number): GraphNode => ({ ...base, in: [i], out: o });
  const cases: [string, GraphNode[], boolean][] = [
    ['affine, hardtanh, conv', [affine, clamp(-1, 1, 1, 2), layer(2, 3)], true],
    ['affine read by two convs', [affine, layer(1, 2), layer(1, 3), { op: 'add', in: [2, 3], out: 4, shape: oshape }], true],
    ['a clamp at 0 changes signs: not folded', [affine, clamp(0, 1, 1, 2), layer(2, 3)], false],
    ['affine also read by a relu: not folded', [affine, layer(1, 2), { op: 'relu', in: [1], out: 3, shape }, { op: 'add', in: [2, 2], out: 4, shape: oshape }], false],
  ];
  const x = rng.fillNormal(new Float32Array(2 * 70 * 30), 0, 2);
  for (const [what, nodes, folded] of cases) {
    conv.graph.nodes = nodes;
    conv.graph.output = nodes[nodes.length - 1].out;
    conv.graph.outputShape = nodes[nodes.length - 1].shape as number[];
    const got = assertSameBits(runAll(conv, x, 2), what);
    const model = PackedModel.load(encodePacked(conv.graph, conv.sections), packedBackend('native'), 'fold');
    const kept = model.run(x, 2, new Map());
    assert.deepEqual(new Uint32Array(got.buffer), new Uint32Array(kept.buffer), `${what}: as the plan that runs every node`);
    model.run(x, 2);
    const words = model.currentPlan()!.words, ops: number[] = [];
    for (let pos = 0; pos < words.length; pos += 2 + words[pos + 1]) ops.push(words[pos]);
    assert.equal(ops.includes(OP.channel) || ops.includes(OP.hardtanh), !folded, `${what}: ops ${ops.join(' ')}`);
  }
});

// The AVX-512 kernel is only selected on CPUs with VPOPCNTDQ, which the
// ISA loop above skips elsewhere; its source is also compiled here over plain
// C++ stand-ins for the intrinsics, so its tiling and indexing are checked on
// every machine (g++ builds the addon, so it is always there).
test('the AVX-512 count kernel, compiled over plain C++ intrinsics, counts as the portable kernel does', () => {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/ebnn-avx512-`), exe = `${dir}/emulated`;
  try {
    execFileSync('g++', ['-std=c++20', '-O1', '-Wno-psabi', '-I', `${root}native/packed`, `${root}test/native/avx512-emulated.cc`,
      `${root}native/packed/pk_conv.cc`, '-o', exe], { stdio: 'pipe' });
    const r = spawnSync(exe, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^(\d+) of \1 cases match/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the committed WebAssembly module is the build of the current sources', () => {
  const meta = JSON.parse(fs.readFileSync(`${root}wasm/equalbits-packed.json`, 'utf8')) as { sources: string[]; sha256: string; wasmSha256: string; wasmThreadedSha256: string };
  const h = crypto.createHash('sha256');
  for (const s of meta.sources) h.update(fs.readFileSync(`${root}${s}`));
  assert.equal(h.digest('hex'), meta.sha256, 'native/packed or scripts/build-wasm.sh changed: run scripts/build-wasm.sh');
  assert.equal(crypto.createHash('sha256').update(fs.readFileSync(`${root}wasm/equalbits-packed.wasm`)).digest('hex'), meta.wasmSha256);
  assert.equal(crypto.createHash('sha256').update(fs.readFileSync(`${root}wasm/equalbits-packed-mt.wasm`)).digest('hex'), meta.wasmThreadedSha256);
  // Where Debian's clang 14 is installed, a fresh build must give the same bytes.
  if (spawnSync('clang-14', ['--version']).status === 0) execFileSync('bash', [`${root}scripts/build-wasm.sh`, '--check'], { stdio: 'pipe' });
});

test('ebnn bench-infer: timings for every engine and the float forward, binary MAC/s; bad flags are one line, exit 2', async () => {
  const os = await import('node:os'), path = await import('node:path');
  const { createModel } = await import('../src/models/index.js');
  const { exportModel } = await import('../src/train/export.js');
  const options = { weights: { name: 'bihalf' as const }, activations: 'ste_sign' as const, numClasses: 10, inChannels: 3, imageSize: 16 };
  const model = createModel('resnet20', options);
  const { graph, sections } = exportModel(model, { shape: [3, 16, 16], mean: [0, 0, 0], std: [1, 1, 1] }, { model: { name: 'resnet20', options } });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'eb-bench-')), 'r20.ebnn');
  fs.writeFileSync(file, encodePacked(graph, sections));
  const cli = `${root}dist/src/cli/ebnn.js`;
  const r = spawnSync(process.execPath, [cli, 'bench-infer', file, '--runs', '2', '--batch', '3', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { engines: { engine: string; latencyMs: number; imagesPerSecond: number }[]; binary: { macs: number; gbmacs: number; layers: number } };
  assert.deepEqual(out.engines.map((e) => e.engine), ['packed-native', 'packed-wasm', 'packed-js', 'float']);
  for (const e of out.engines) assert.ok(e.latencyMs > 0 && e.imagesPerSecond > 0, JSON.stringify(e));
  // ResNet-20's 18 binary convs at 16x16: 16x16x9x16 MACs x 256 px (x7), then 8x8 and 4x4 stages.
  const convs = graph.nodes.filter((n) => n.input === 'sign' && n.weights === 'binary');
  const macs = convs.reduce((s, n) => s + (n.cout as number) * (n.cin as number) * 9 * (n.shape as number[])[1] * (n.shape as number[])[2], 0);
  assert.equal(out.binary.layers, convs.length);
  assert.equal(out.binary.macs, macs);
  assert.ok(out.binary.gbmacs > 0);
  for (const bad of [['--engines', 'gpu'], ['--runs', '0'], ['--engines', 'wasm', '--threads', '65'], []]) {
    const b = spawnSync(process.execPath, [cli, 'bench-infer', bad.length ? file : `${file}.missing`, ...bad], { encoding: 'utf8' });
    assert.equal(b.status, 2, b.stderr);
    assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
  }
});

test('spawnWebWorker: Web Workers (here a shim over worker_threads) serve the threaded module and give the same bits', async () => {
  const { resolveObjectURL } = await import('node:buffer');
  const { Worker: NodeWorker } = await import('node:worker_threads');
  const { spawnWebWorker } = await import('../src/deploy/web-workers.js');
  // A Web Worker's contract: a script URL, postMessage in, the script's onmessage called.
  class ShimWorker {
    private worker: InstanceType<typeof NodeWorker> | null = null;
    private readonly queue: unknown[] = [];
    private readonly ready: Promise<void>;
    constructor(url: string) {
      this.ready = resolveObjectURL(url)!.text().then((src) => {
        const w = new NodeWorker(onWorkerThread(src), { eval: true });
        w.unref();
        for (const m of this.queue) w.postMessage(m);
        this.worker = w;
      });
    }
    postMessage(m: unknown): void { if (this.worker) this.worker.postMessage(m); else this.queue.push(m); }
    terminate(): void { void this.ready.then(() => this.worker?.terminate()); }
  }
  const g = globalThis as { Worker?: unknown };
  g.Worker = ShimWorker;
  const backend = new WasmBackend(loadWasmModule(true), { threads: 2, spawn: spawnWebWorker });
  try {
    for (let t0 = Date.now(); backend.workersStarted() < 1; ) {
      assert.ok(Date.now() - t0 < 10000, 'the Web Worker did not start within 10 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const rng = new Rng(9), c = convCases[0], layer = convLayer(rng, c);
    const x = rng.fillNormal(new Float32Array(c.n * c.cin * c.h * c.w)), bytes = encodePacked(layer.graph, layer.sections);
    const model = PackedModel.load(bytes, backend, 'web');
    const want = new Uint32Array(PackedModel.load(bytes, packedBackend('wasm'), 'one').run(x, c.n).buffer);
    // A small layer: the page's thread may take every task of a run before the worker wakes,
    // and with both cores busy (a training run beside the tests) it may sleep through many
    // runs, so the bound is time rather than a count of runs.
    let runs = 0;
    for (const t0 = Date.now(); backend.workerTasks() === 0 && Date.now() - t0 < 20000; runs++) {
      assert.deepEqual(new Uint32Array(model.run(x, c.n).buffer), want);
      if (runs % 50 === 49) await new Promise((r) => setTimeout(r, 1));
    }
    assert.ok(backend.workerTasks() > 0, `the Web Worker ran no task in ${runs} runs (20 s)`);
  } finally {
    backend.close();
    delete g.Worker;
  }
});

test('the browser entry (src/deploy/index) imports no Node module, directly or through its imports', () => {
  const seen = new Set<string>(), nodeImports: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1];
      if (spec.startsWith('.')) visit(new URL(spec, `file://${file}`).pathname);
      else nodeImports.push(`${file}: ${spec}`);
    }
    if (/\bprocess\.|\brequire\(/.test(text)) nodeImports.push(`${file}: uses process or require`);
  };
  visit(`${root}dist/src/deploy/index.js`);
  assert.ok(seen.size >= 8, `walked ${seen.size} files`);
  assert.deepEqual(nodeImports, []);
});
