// The packed kernels in TypeScript: runs a plan (src/deploy/plan.ts) where
// neither the native addon nor WebAssembly is available. Every float result
// is computed with the same float32 operations in the same order as
// native/packed/*.cc (Math.fround after each step: a double result of one
// float32 +, -, * or / rounds to the same float32 as the float32 operation),
// so the outputs are bit-identical to the other two backends. Browser-safe.
import { OP, fieldLayout } from './plan.js';
import { outSize } from '../native/api.js';

const fr = Math.fround;

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

class Heap {
  readonly f32: Float32Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  constructor(buf: ArrayBuffer, byteOffset: number, bytes: number) {
    this.f32 = new Float32Array(buf, byteOffset, bytes >> 2);
    this.u32 = new Uint32Array(buf, byteOffset, bytes >> 2);
    this.i32 = new Int32Array(buf, byteOffset, bytes >> 2);
  }
}

// Same integer counts as pk_conv.cc's packed path, computed per pixel from
// the channels-last sign bits without the block gather: a tap on the padding
// reads 0 bits, and dot = base[f][pattern of the pixel] - 2 * mismatches.
function binaryConv(m: Heap, a: Int32Array): void {
  const [n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, xo, wbo, wmo, bao, npat, sco, bo, yo, , pio, iso, ibo] = a;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw), P = oh * ow, hw = h * w, taps = kh * kw;
  const { wc, cg, tpw, kw64 } = fieldLayout(cin, taps), u = 2 * wc; // u32 per pixel
  const low = cg === 32 ? 0xffffffff : (1 << cg) - 1;
  const xb = new Uint32Array(hw * u);
  const wbits = m.u32.subarray(wbo >> 2), wmask = wmo < 0 ? null : m.u32.subarray(wmo >> 2);
  const base = m.i32.subarray(bao >> 2), pid = pio < 0 ? null : m.i32.subarray(pio >> 2);
  const scale = m.f32.subarray(sco >> 2), bias = bo < 0 ? null : m.f32.subarray(bo >> 2);
  for (let img = 0; img < n; img++) {
    const x = m.f32.subarray((xo >> 2) + img * cin * hw), y = m.f32.subarray((yo >> 2) + img * cout * P);
    xb.fill(0);
    for (let c = 0; c < cin; c++) {
      const word = c >>> 5, bit = 1 << (c & 31);
      // A folded batch norm: the sign of x * scale + shift, rounded as the affine op rounds it.
      const is = iso < 0 ? 1 : m.f32[(iso >> 2) + c], ib = iso < 0 ? 0 : m.f32[(ibo >> 2) + c];
      for (let p = 0; p < hw; p++) if ((iso < 0 ? x[c * hw + p] : fr(fr(x[c * hw + p] * is) + ib)) < 0) xb[p * u + word] |= bit;
    }
    for (let f = 0; f < cout; f++) {
      const sc = scale[f], b = bias ? bias[f] : 0, wf = f * kw64 * 2;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let mism = 0;
          for (let ky = 0, t = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++, t++) {
              const iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
              const out = iy < 0 || iy >= h || ix < 0 || ix >= w, src = (iy * w + ix) * u;
              if (cg === 64) {
                const wt = wf + t * u;
                for (let j = 0; j < u; j++) {
                  const v = (out ? 0 : xb[src + j]) ^ wbits[wt + j];
                  mism += popcount32(wmask ? v & wmask[wt + j] : v);
                }
              } else {
                // cin <= 32: the tap's cg bits within one u32 of its shared word.
                const off = (t % tpw) * cg, wt = wf + Math.floor(t / tpw) * 2 + (off >>> 5), shift = off & 31;
                const v = ((out ? 0 : xb[src]) ^ (wbits[wt] >>> shift)) & low;
                mism += popcount32(wmask ? v & (wmask[wt] >>> shift) : v);
              }
            }
          }
          const p = oy * ow + ox, v = fr(sc * (base[f * npat + (pid ? pid[p] : 0)] - 2 * mism));
          y[f * P + p] = bias ? fr(v + b) : v;
        }
      }
    }
  }
}

function floatConv(m: Heap, a: Int32Array): void {
  const [n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, xo, mode, wo, mo, sco, bo, yo, , signin] = a;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw), P = oh * ow, hw = h * w, taps = kh * kw, K = cin * taps;
  const wpf = Math.ceil(K / 32);
  // The column matrix of pk_conv.cc, per image: col[k][p].
  const col = new Float32Array(K * P);
  const wf = mode === 0 ? m.f32.subarray(wo >> 2) : null, bits = mode === 0 ? null : m.u32.subarray(wo >> 2);
  const mask = mode === 2 ? m.u32.subarray(mo >> 2) : null;
  const scale = mode === 0 ? null : m.f32.subarray(sco >> 2), bias = bo < 0 ? null : m.f32.subarray(bo >> 2);
  for (let img = 0; img < n; img++) {
    const x = m.f32.subarray((xo >> 2) + img * cin * hw), y = m.f32.subarray((yo >> 2) + img * cout * P);
    for (let c = 0; c < cin; c++) {
      for (let t = 0; t < taps; t++) {
        const ky = Math.floor(t / kw), kx = t % kw, row = (c * taps + t) * P;
        for (let p = 0; p < P; p++) {
          const iy = Math.floor(p / ow) * sh - ph + ky, ix = (p % ow) * sw - pw + kx;
          let v = 0;
          if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
            v = x[c * hw + iy * w + ix];
            if (signin) v = v < 0 ? -1 : 1;
          }
          col[row + p] = v;
        }
      }
    }
    for (let f = 0; f < cout; f++) {
      for (let p = 0; p < P; p++) {
        let acc = 0;
        if (wf) {
          for (let k = 0; k < K; k++) acc = fr(acc + fr(wf[f * K + k] * col[k * P + p]));
        } else {
          for (let k = 0; k < K; k++) {
            const word = f * wpf + (k >>> 5), bit = 1 << (k & 31);
            if (mask && !(mask[word] & bit)) { acc = fr(acc + 0); continue; }
            const v = col[k * P + p];
            acc = fr(acc + (bits![word] & bit ? -v : v));
          }
        }
        let v = acc;
        if (scale) v = fr(scale[f] * v);
        if (bias) v = fr(v + bias[f]);
        y[f * P + p] = v;
      }
    }
  }
}

// exp_f of pk_ops.cc, step by step.
function expF(x: number): number {
  if (!(x === x)) return x;
  if (x > fr(88.72)) return Infinity;
  if (x < fr(-103.97)) return 0;
  const t = fr(x * fr(1.44269504));
  const nInt = Math.trunc(t < 0 ? fr(t - 0.5) : fr(t + 0.5));
  let r = fr(x - fr(nInt * fr(0.693145752)));
  r = fr(r - fr(nInt * fr(1.42860677e-6)));
  let p = fr(1 / 5040);
  for (const c of [fr(1 / 720), fr(1 / 120), fr(1 / 24), fr(1 / 6), 0.5, 1, 1]) p = fr(fr(p * r) + c);
  const half = Math.trunc(nInt / 2);
  return fr(fr(p * 2 ** half) * 2 ** (nInt - half));
}

function pool(m: Heap, a: Int32Array, max: boolean): void {
  const [n, c, h, w, kh, kw, sh, sw, ph, pw, xo, yo] = a;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw), inv = fr(1 / (kh * kw));
  const x = m.f32.subarray(xo >> 2), y = m.f32.subarray(yo >> 2);
  for (let plane = 0; plane < n * c; plane++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = 0, first = true;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix < 0 || ix >= w) continue;
            const v = x[plane * h * w + iy * w + ix];
            if (!max) acc = fr(acc + v);
            else if (first || v > acc) acc = v;
            first = false;
          }
        }
        y[plane * oh * ow + oy * ow + ox] = max ? acc : fr(acc * inv);
      }
    }
  }
}

// Argument words of each op (pk_ops.cc's arity()).
const ARITY: Record<number, number> = {
  [OP.binaryConv]: 23, [OP.floatConv]: 20, [OP.channel]: 10, [OP.relu]: 3, [OP.sign]: 3, [OP.sigmoid]: 3,
  [OP.hardtanh]: 5, [OP.add]: 4, [OP.maxPool]: 12, [OP.avgPool]: 12, [OP.globalAvgPool]: 5, [OP.subsamplePad]: 7, [OP.transpose]: 4,
};

/** Runs plan `words` over the heap (`bytes` bytes at `byteOffset` of `buf`); returns 0 or the bad record's word index. */
export function runPlanJs(buf: ArrayBuffer, byteOffset: number, bytes: number, words: Int32Array): number {
  const m = new Heap(buf, byteOffset, bytes), f = m.f32;
  for (let pos = 0; pos < words.length;) {
    const op = words[pos], len = words[pos + 1];
    if (pos + 2 > words.length || ARITY[op] === undefined || len !== ARITY[op] || pos + 2 + len > words.length) return pos;
    const a = words.subarray(pos + 2, pos + 2 + len);
    const at = (i: number) => a[i] >> 2;
    switch (op) {
      case OP.binaryConv: binaryConv(m, a); break;
      case OP.floatConv: floatConv(m, a); break;
      case OP.channel: {
        // v > 0 ? v : alpha v, then v * scale + shift, then + r, each step optional (pk_ops.cc).
        const [n, c, hw, xo, ao, so, bo, ro, rfirst, yo] = a;
        for (let p = 0; p < n * c; p++) {
          const ch = p % c, x0 = (xo >> 2) + p * hw, y0 = (yo >> 2) + p * hw, r0 = (ro >> 2) + p * hw;
          const al = ao < 0 ? 0 : f[(ao >> 2) + ch], s = so < 0 ? 0 : f[(so >> 2) + ch], b = so < 0 ? 0 : f[(bo >> 2) + ch];
          for (let i = 0; i < hw; i++) {
            let v = f[x0 + i];
            if (ao >= 0) v = v > 0 ? v : fr(al * v);
            if (so >= 0) v = fr(fr(v * s) + b);
            if (ro >= 0) v = rfirst ? fr(f[r0 + i] + v) : fr(v + f[r0 + i]);
            f[y0 + i] = v;
          }
        }
        break;
      }
      case OP.globalAvgPool: {
        const [n, c, hw] = a;
        for (let p = 0; p < n * c; p++) {
          let s = 0;
          for (let i = 0; i < hw; i++) s = fr(s + f[at(3) + p * hw + i]);
          f[at(4) + p] = fr(s / hw);
        }
        break;
      }
      case OP.relu: for (let i = 0; i < a[0]; i++) { const v = f[at(1) + i]; f[at(2) + i] = v > 0 ? v : 0; } break;
      case OP.sign: for (let i = 0; i < a[0]; i++) f[at(2) + i] = f[at(1) + i] < 0 ? -1 : 1; break;
      case OP.sigmoid: for (let i = 0; i < a[0]; i++) f[at(2) + i] = fr(1 / fr(1 + expF(-f[at(1) + i]))); break;
      case OP.hardtanh: {
        const lo = new Float32Array(new Int32Array([a[2], a[3]]).buffer);
        for (let i = 0; i < a[0]; i++) { const v = f[at(1) + i]; f[at(4) + i] = v < lo[0] ? lo[0] : v > lo[1] ? lo[1] : v; }
        break;
      }
      case OP.add: for (let i = 0; i < a[0]; i++) f[at(3) + i] = fr(f[at(1) + i] + f[at(2) + i]); break;
      case OP.maxPool: case OP.avgPool: pool(m, a, op === OP.maxPool); break;
      case OP.subsamplePad: {
        const [n, c, h, w, pad] = a, oc = c + 2 * pad, oh = Math.ceil(h / 2), ow = Math.ceil(w / 2);
        f.fill(0, at(6), at(6) + n * oc * oh * ow);
        for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
          const src = at(5) + (b * c + ch) * h * w, dst = at(6) + (b * oc + ch + pad) * oh * ow;
          for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) f[dst + i * ow + j] = f[src + 2 * i * w + 2 * j];
        }
        break;
      }
      case OP.transpose: {
        const [rows, cols] = a;
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) f[at(3) + j * rows + i] = f[at(2) + i * cols + j];
        break;
      }
    }
    pos += 2 + len;
  }
  return 0;
}
