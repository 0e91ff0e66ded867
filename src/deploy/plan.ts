// Lays a packed graph out as a *plan* for the packed kernels (native/packed/pk.h):
// one heap holding the file's float and bit sections, the 1W/1A weights
// repacked channels-last, the activations and one scratch area; and the op
// records that run the graph on it for a batch of n images. The same plan
// runs on the native addon, the WebAssembly module and the TypeScript mirror.
// Browser-safe.
import type { SectionArray } from './format.js';
import { numel as size, type GraphNode, type PackedGraph } from './graph.js';
import { outSize } from '../native/api.js';

/** Op codes: keep in step with native/packed/pk.h. */
export const OP = {
  binaryConv: 1, floatConv: 2, channel: 3, relu: 5, hardtanh: 6, sign: 7, add: 8, sigmoid: 9,
  maxPool: 10, avgPool: 11, globalAvgPool: 12, subsamplePad: 13, transpose: 14,
} as const;

export const BLOCK = 64;        // pixels per gathered block (pk::kBlock)
export const FILTER_CHUNK = 32; // filters per binary-conv task (pk::kFilterChunk)

/** Scratch per thread a binary conv needs (pk::binary_conv_tmp_bytes). */
export function binaryConvTmpBytes(kw64: number): number {
  return FILTER_CHUNK * BLOCK * 4 + kw64 * BLOCK * 16 + FILTER_CHUNK * kw64 * 16 + 256;
}

const align = (v: number) => Math.ceil(v / 64) * 64;
const f32bits = (v: number) => new Int32Array(new Float32Array([v]).buffer)[0];

/** The batch-independent part: sections and repacked weights, and where each node's parameters are. */
export interface StaticLayout {
  bytes: Uint8Array;
  /** Per node index: named byte offsets of its parameters in the heap. */
  params: Map<number, Record<string, number>>;
}

/**
 * Where a 1W/1A layer's tap bits go in its u64 field words (pk::tap_bits): wc
 * words per started 64 channels; for cin <= 32, cg = the next power of two
 * bits per tap and tpw = 64 / cg taps per word, so that small layers count
 * no empty bits. Channel c of tap t is bit (t % tpw) * cg + c % 64 of word
 * floor(t / tpw) * wc + floor(c / 64); kw64 words per receptive field.
 */
export function fieldLayout(cin: number, taps: number) {
  let cg = 1;
  while (cg < cin && cg < 64) cg *= 2;
  const wc = Math.ceil(cin / 64), tpw = 64 / cg;
  return { wc, cg, tpw, kw64: Math.ceil(taps / tpw) * wc };
}

/**
 * The sign bits of a 1W/1A layer in field words, [cout][kw64] u64 (as u32
 * pairs; see fieldLayout), from the file's per-filter bits in PyTorch order
 * (c, ky, kx); also per filter and tap the -1 count (under the mask) and, for
 * ternary, the non-zero count (null: cin each).
 */
export function repackBinary(bits: Uint32Array, mask: Uint32Array | null, cout: number, cin: number, taps: number) {
  const { wc, cg, tpw, kw64 } = fieldLayout(cin, taps), k = cin * taps, wpf = Math.ceil(k / 32);
  const wbits = new Uint32Array(cout * kw64 * 2), wmask = mask ? new Uint32Array(wbits.length) : null;
  const tapneg = new Int32Array(cout * taps), tapcnt = mask ? new Int32Array(cout * taps) : null;
  for (let f = 0; f < cout; f++) {
    for (let c = 0; c < cin; c++) {
      for (let t = 0; t < taps; t++) {
        const i = c * taps + t, src = f * wpf + (i >>> 5), b = 1 << (i & 31);
        const bit = (t % tpw) * cg + (c & 63), word = f * kw64 + Math.floor(t / tpw) * wc + (c >>> 6);
        const dst = word * 2 + (bit >>> 5), db = 1 << (bit & 31);
        const keep = !mask || (mask[src] & b) !== 0, neg = (bits[src] & b) !== 0;
        if (neg) wbits[dst] |= db;
        if (wmask && keep) { wmask[dst] |= db; tapcnt![f * taps + t]++; }
        if (neg && keep) tapneg[f * taps + t]++;
      }
    }
  }
  return { wbits, wmask, tapneg, tapcnt };
}

/**
 * The patterns of taps that fall on the padding, for one conv's geometry: pid
 * per output pixel (0: none; null when no window leaves the image) and each
 * pattern's taps (pattern 0: none).
 */
export function paddingPatterns(g: { h: number; w: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number }) {
  const oh = outSize(g.h, g.kh, g.sh, g.ph), ow = outSize(g.w, g.kw, g.sw, g.pw);
  // A tap is missing when its row or its column is: classes of output rows by
  // their missing ky, of columns by their missing kx, then the pairs that occur.
  const classes = (n: number, k: number, s: number, p: number, size: number) => {
    const of = new Int32Array(n), sets: number[][] = [], ids = new Map<string, number>();
    for (let o = 0; o < n; o++) {
      const missing: number[] = [];
      for (let d = 0; d < k; d++) if (o * s - p + d < 0 || o * s - p + d >= size) missing.push(d);
      const key = missing.join(',');
      if (!ids.has(key)) { ids.set(key, sets.length); sets.push(missing); }
      of[o] = ids.get(key)!;
    }
    return { of, sets };
  };
  const rows = classes(oh, g.kh, g.sh, g.ph, g.h), cols = classes(ow, g.kw, g.sw, g.pw, g.w);
  const patterns: number[][] = [[]], pairId = new Map<number, number>();
  const idOf = (r: number, c: number): number => {
    const key = r * cols.sets.length + c;
    let id = pairId.get(key);
    if (id === undefined) {
      const taps: number[] = [];
      for (let ky = 0, t = 0; ky < g.kh; ky++) {
        for (let kx = 0; kx < g.kw; kx++, t++) if (rows.sets[r].includes(ky) || cols.sets[c].includes(kx)) taps.push(t);
      }
      id = taps.length === 0 ? 0 : patterns.push(taps) - 1;
      pairId.set(key, id);
    }
    return id;
  };
  const pid = new Int32Array(oh * ow);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) pid[oy * ow + ox] = idOf(rows.of[oy], cols.of[ox]);
  return { pid: patterns.length > 1 ? pid : null, patterns };
}

/**
 * The XNOR count reads taps on the padding as 0 bits (+1), so their -1
 * weights count as mismatches. With m mismatches over all taps,
 * dot = base - 2 m where base = (non-zero weights on in-image taps) + 2 (-1
 * weights on padding taps): one constant per filter and padding pattern, [cout][npat].
 */
export function dotBase(tapneg: Int32Array, tapcnt: Int32Array | null, cin: number, cout: number, taps: number, patterns: number[][]): Int32Array {
  const base = new Int32Array(cout * patterns.length);
  for (let f = 0; f < cout; f++) {
    const cnt = (t: number) => tapcnt ? tapcnt[f * taps + t] : cin;
    let total = 0;
    for (let t = 0; t < taps; t++) total += cnt(t);
    patterns.forEach((missing, q) => {
      let b = total;
      for (const t of missing) b += 2 * tapneg[f * taps + t] - cnt(t);
      base[f * patterns.length + q] = b;
    });
  }
  return base;
}

/** The shape of every value of the graph by id (0: the input). */
const valueShapes = (graph: PackedGraph) => new Map<number, number[]>([[0, graph.input.shape], ...graph.nodes.map((n) => [n.out, n.shape] as [number, number[]])]);

const isBinaryInput = (n: GraphNode) => n.input === 'sign' && n.weights !== 'float';
const convDims = (n: GraphNode) => n.op === 'conv2d'
  ? { kh: (n.kernel as number[])[0], kw: (n.kernel as number[])[1], taps: (n.kernel as number[])[0] * (n.kernel as number[])[1] }
  : { kh: 1, kw: 1, taps: 1 };

/** Copies the sections into the heap and repacks the 1W/1A weights. */
export function layoutStatic(graph: PackedGraph, sections: Map<string, SectionArray>): StaticLayout {
  const parts: { off: number; data: ArrayBufferView }[] = [];
  let end = 0;
  const put = (data: ArrayBufferView): number => {
    const off = end;
    parts.push({ off, data });
    end = align(off + data.byteLength);
    return off;
  };
  const floats = sections.get('floats') as Float32Array | undefined, bits = sections.get('bits') as Uint32Array | undefined;
  const fBase = floats ? put(floats) : 0, bBase = bits ? put(bits) : 0;
  const fAt = (n: GraphNode, key: string) => fBase + 4 * (n[key] as number[])[0];
  const bAt = (n: GraphNode, key: string) => bBase + 4 * (n[key] as number[])[0];
  const params = new Map<number, Record<string, number>>();
  const shapes = valueShapes(graph);
  graph.nodes.forEach((n, i) => {
    const p: Record<string, number> = {};
    if (n.op === 'conv2d' || n.op === 'linear') {
      p.bias = n.bias ? fAt(n, 'bias') : -1;
      if (n.weights === 'float') p.weight = fAt(n, 'weight');
      else {
        p.scale = fAt(n, 'scale');
        if (isBinaryInput(n)) {
          const [o, l] = n.bits as number[], m = n.mask as number[] | undefined;
          const { kh, kw, taps } = convDims(n), cout = n.cout as number, cin = n.cin as number;
          const r = repackBinary(bits!.subarray(o, o + l), m ? bits!.subarray(m[0], m[0] + m[1]) : null, cout, cin, taps);
          p.wbits = put(r.wbits);
          p.wmask = r.wmask ? put(r.wmask) : -1;
          // A linear layer has no padding; a conv's input size is fixed by the graph.
          const [, h, w] = n.op === 'conv2d' ? shapes.get(n.in[0])! : [cin, 1, 1];
          const [sh, sw] = n.op === 'conv2d' ? n.stride as number[] : [1, 1];
          const [ph, pw] = n.op === 'conv2d' ? n.padding as number[] : [0, 0];
          const { pid, patterns } = paddingPatterns({ h, w, kh, kw, sh, sw, ph, pw });
          p.base = put(dotBase(r.tapneg, r.tapcnt, cin, cout, taps, patterns));
          p.npat = patterns.length;
          p.pid = pid ? put(pid) : -1;
        } else {
          p.bits = bAt(n, 'bits');
          p.mask = n.mask ? bAt(n, 'mask') : -1;
        }
      }
    } else if (n.op === 'affine') {
      p.scale = fAt(n, 'scale'); p.shift = fAt(n, 'shift');
    } else if (n.op === 'prelu') {
      p.alpha = fAt(n, 'alpha');
    }
    params.set(i, p);
  });
  const bytes = new Uint8Array(end);
  for (const { off, data } of parts) bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), off);
  return { bytes, params };
}

/**
 * Batch norms folded into the binarisation: an affine node, and hardtanh
 * clamps after it that keep the sign (lo < 0 <= hi), whose value only
 * sign-input binary layers read. Those layers take the sign of
 * x * scale + shift while packing (the same rounded float ops, so the same
 * bits), and the affine and clamps are not run. Off when every value is kept.
 * `skip`: the folded nodes; `into`: binary layer index -> the affine's index.
 */
export function signFolds(graph: PackedGraph, reads: Map<number, number>, outRoot: number, keepAll: boolean) {
  const skip = new Set<number>(), into = new Map<number, number>();
  const nodes = graph.nodes, readersOf = new Map<number, number[]>();
  nodes.forEach((n, k) => {
    for (const v of n.in) {
      const list = readersOf.get(v);
      if (list) list.push(k);
      else readersOf.set(v, [k]);
    }
  });
  nodes.forEach((n, i) => {
    if (n.op !== 'affine' || keepAll) return;
    const folded = [i];
    let v = n.out;
    for (let r = readersOf.get(v) ?? []; r.length === 1 && reads.get(v) === 1; r = readersOf.get(v) ?? []) {
      const h = nodes[r[0]];
      if (h.op !== 'hardtanh' || !((h.lo as number) < 0 && (h.hi as number) >= 0)) break;
      folded.push(r[0]);
      v = h.out;
    }
    // Every reader (reshapes count in `reads` but are not binary layers) must binarise v.
    const r = readersOf.get(v) ?? [];
    if (v === outRoot || r.length === 0 || r.length !== reads.get(v) || !r.every((k) => isBinaryInput(nodes[k]))) return;
    for (const k of folded) skip.add(k);
    for (const k of r) into.set(k, i);
  });
  return { skip, into };
}

/**
 * Channel chains: a PReLU and / or affine node, and an add right after them,
 * run as one pass over the data (OP.channel) when each step's value is read
 * only by the next step and is not the output. Off when every value is kept.
 * `steps`: chain's first node -> its node indices; `inside`: the others.
 */
export function channelChains(graph: PackedGraph, reads: Map<number, number>, outRoot: number, keepAll: boolean, folded: Set<number>) {
  const steps = new Map<number, number[]>(), inside = new Set<number>();
  const nodes = graph.nodes;
  for (let i = 0; i < nodes.length && !keepAll; i++) {
    if ((nodes[i].op !== 'prelu' && nodes[i].op !== 'affine') || folded.has(i)) continue;
    const chain = [i];
    for (let j = i; j + 1 < nodes.length; j++) {
      const cur = nodes[j], next = nodes[j + 1];
      const follows = (cur.op === 'prelu' && next.op === 'affine') || next.op === 'add';
      const only = reads.get(cur.out) === 1 && cur.out !== outRoot && next.in.includes(cur.out);
      if (!follows || !only || folded.has(j + 1)) break;
      chain.push(j + 1);
      inside.add(j + 1);
      if (next.op === 'add') break;
    }
    steps.set(i, chain);
    i = chain[chain.length - 1];
  }
  return { steps, inside };
}

export interface Plan {
  n: number;
  /** Total heap bytes (static part first). */
  heapBytes: number;
  words: Int32Array;
  /** Per-thread scratch bytes of the binary convs. */
  tmpBytes: number;
  input: number;
  output: number;
  outputLength: number;
  /** Byte offset of every graph value (kept ones only are valid after a run). */
  values: Map<number, number>;
}

/**
 * The op records for a batch of n. Activation buffers are reused once their
 * last reader has run, unless `keepAll` (checks read every value afterwards).
 */
export function buildPlan(graph: PackedGraph, layout: StaticLayout, n: number, keepAll = false): Plan {
  const words: number[] = [];
  const emit = (op: number, args: number[]) => { words.push(op, args.length, ...args); };
  let end = align(layout.bytes.length);
  const free: { off: number; bytes: number }[] = [];
  const alloc = (bytes: number): number => {
    const i = free.findIndex((b) => b.bytes >= bytes);
    if (i >= 0) return free.splice(i, 1)[0].off;
    const off = end;
    end = align(end + bytes);
    return off;
  };
  const release = (off: number, bytes: number) => { if (!keepAll) free.push({ off, bytes }); };
  const shapes = valueShapes(graph);
  const values = new Map<number, number>();
  // Buffers by value; reshape aliases its input, so buffers count their readers.
  const bufferOf = new Map<number, { off: number; bytes: number; reads: number }>();
  const reads = new Map<number, number>();
  const aliasRoot = new Map<number, number>();
  for (const node of graph.nodes) if (node.op === 'reshape') aliasRoot.set(node.out, aliasRoot.get(node.in[0]) ?? node.in[0]);
  for (const node of graph.nodes) for (const v of node.in) { const r = aliasRoot.get(v) ?? v; reads.set(r, (reads.get(r) ?? 0) + 1); }
  const outRoot = aliasRoot.get(graph.output) ?? graph.output;
  const folds = signFolds(graph, reads, outRoot, keepAll);
  // A layer with a folded batch norm reads the affine's input itself: one more read.
  for (const i of folds.into.values()) { const v = graph.nodes[i].in[0], r = aliasRoot.get(v) ?? v; reads.set(r, (reads.get(r) ?? 0) + 1); }
  const inBytes = 4 * n * size(graph.input.shape);
  const input = alloc(inBytes);
  bufferOf.set(0, { off: input, bytes: inBytes, reads: (reads.get(0) ?? 0) + 1 }); // +1: never reused
  values.set(0, input);
  let scratch = 0, tmpBytes = 0;
  const scratchAt: number[] = []; // words to patch with the scratch offset once its size is known

  const chains = channelChains(graph, reads, outRoot, keepAll, folds.skip);
  // Inputs whose last reader this was go back to the pool.
  const releaseValue = (v: number) => {
    const b = bufferOf.get(aliasRoot.get(v) ?? v);
    if (b && --b.reads === 0) release(b.off, b.bytes);
  };
  const releaseInputs = (node: GraphNode) => { for (const v of node.in) releaseValue(v); };

  graph.nodes.forEach((node, idx) => {
    if (chains.inside.has(idx) || folds.skip.has(idx)) { releaseInputs(node); return; } // run by a chain's first node, or folded
    const x = node.in.map((v) => values.get(v)!), inShape = shapes.get(node.in[0])!, p = layout.params.get(idx)!;
    const [c, h, w] = inShape.length === 3 ? inShape : [inShape[0], 1, 1];
    const len = n * size(node.shape);
    const chain = chains.steps.get(idx) ?? [idx], last = graph.nodes[chain[chain.length - 1]];
    let y: number;
    if (node.op === 'reshape') y = x[0];
    else {
      const bytes = 4 * len;
      y = alloc(bytes);
      const root = last.out;
      bufferOf.set(root, { off: y, bytes, reads: (reads.get(root) ?? 0) + (root === outRoot ? 1 : 0) });
    }
    switch (node.op) {
      case 'conv2d': case 'linear': {
        const { kh, kw, taps } = convDims(node), cout = node.cout as number, cin = node.cin as number;
        const [sh, sw] = node.op === 'conv2d' ? node.stride as number[] : [1, 1];
        const [ph, pw] = node.op === 'conv2d' ? node.padding as number[] : [0, 0];
        // A linear layer over n > 1 rows runs as a 1x1 conv over a 1 x n image: transposed in and out.
        const rowsAsPixels = node.op === 'linear' && n > 1;
        // With a folded batch norm the layer reads the affine's input (see signFolds).
        const fold = folds.into.get(idx), bn = fold === undefined ? undefined : layout.params.get(fold)!;
        const src = fold === undefined ? x[0] : values.get(graph.nodes[fold].in[0])!;
        let xin = src, yout = y;
        if (rowsAsPixels) {
          xin = alloc(4 * n * cin);
          emit(OP.transpose, [n, cin, src, xin]);
          yout = alloc(4 * n * cout);
        }
        const geo = rowsAsPixels ? [1, cin, 1, n, cout, 1, 1, 1, 1, 0, 0] : [n, cin, h, w, cout, kh, kw, sh, sw, ph, pw];
        const [, , gh, gw] = geo, P = outSize(gh, kh, sh, ph) * outSize(gw, kw, sw, pw);
        if (isBinaryInput(node)) {
          const { wc, kw64 } = fieldLayout(cin, taps), nblk = Math.ceil(P / BLOCK);
          const images = 8 * (gh * gw * wc + nblk * kw64 * BLOCK);
          scratch = Math.max(scratch, images);
          // Several images on several threads: each thread's scratch also holds one image's bits and fields.
          tmpBytes = Math.max(tmpBytes, align(binaryConvTmpBytes(kw64)) + (geo[0] > 1 ? images : 0));
          emit(OP.binaryConv, [...geo, xin, p.wbits, p.wmask, p.base, p.npat, p.scale, p.bias, yout, 0, p.pid, bn ? bn.scale : -1, bn ? bn.shift : -1]);
          scratchAt.push(words.length - 4);
        } else {
          scratch = Math.max(scratch, 4 * cin * taps * P);
          if (geo[0] > 1) tmpBytes = Math.max(tmpBytes, 4 * cin * taps * P);
          const mode = node.weights === 'float' ? 0 : node.weights === 'binary' ? 1 : 2;
          emit(OP.floatConv, [...geo, xin, mode, mode === 0 ? p.weight : p.bits, mode === 2 ? p.mask : -1,
            mode === 0 ? -1 : p.scale, p.bias, yout, 0, node.input === 'sign' ? 1 : 0]);
          scratchAt.push(words.length - 2);
        }
        if (rowsAsPixels) {
          emit(OP.transpose, [cout, n, yout, y]);
          release(xin, 4 * n * cin);
          release(yout, 4 * n * cout);
        }
        if (fold !== undefined) releaseValue(graph.nodes[fold].in[0]);
        break;
      }
      case 'affine': case 'prelu': {
        let alpha = -1, scale = -1, shift = -1, r = -1, rfirst = 0;
        for (const k of chain) {
          const step = graph.nodes[k], q = layout.params.get(k)!;
          if (step.op === 'prelu') alpha = q.alpha;
          else if (step.op === 'affine') { scale = q.scale; shift = q.shift; }
          else {
            // add: the other operand is the residual, kept in the graph's order.
            const prev = graph.nodes[k - 1].out;
            rfirst = step.in[0] === prev ? 0 : 1;
            r = values.get(step.in[rfirst === 1 ? 0 : 1])!;
          }
        }
        emit(OP.channel, [n, c, h * w, x[0], alpha, scale, shift, r, rfirst, y]);
        break;
      }
      case 'relu': emit(OP.relu, [len, x[0], y]); break;
      case 'sign': emit(OP.sign, [len, x[0], y]); break;
      case 'sigmoid': emit(OP.sigmoid, [len, x[0], y]); break;
      case 'hardtanh': emit(OP.hardtanh, [len, x[0], f32bits(node.lo as number), f32bits(node.hi as number), y]); break;
      case 'add': emit(OP.add, [len, x[0], x[1], y]); break;
      case 'maxpool2d': case 'avgpool2d': {
        const [kh, kw] = node.kernel as number[], [sh, sw] = node.stride as number[], [ph, pw] = node.padding as number[];
        emit(node.op === 'maxpool2d' ? OP.maxPool : OP.avgPool, [n, c, h, w, kh, kw, sh, sw, ph, pw, x[0], y]);
        break;
      }
      case 'global_avgpool': emit(OP.globalAvgPool, [n, c, h * w, x[0], y]); break;
      case 'subsample_pad': emit(OP.subsamplePad, [n, c, h, w, node.pad as number, x[0], y]); break;
      case 'reshape': break;
      default: throw new Error(`unreachable: op ${node.op}`);
    }
    values.set(last.out, y);
    releaseInputs(node);
  });
  // Fresh space: a freed block may have held live values while the scratch is in use.
  const scratchOff = end;
  end = align(end + scratch);
  const plan = Int32Array.from(words);
  for (const at of scratchAt) plan[at] = scratchOff;
  return { n, heapBytes: end, words: plan, tmpBytes, input, output: values.get(graph.output)!, outputLength: n * size(graph.outputShape), values };
}
