// The XNOR + popcount binary conv against its integer reference and against
// the float conv of the same +-1 operands, on shapes that exercise every
// packing case: channels below, at and above one 64-bit word, taps that
// straddle words, padding wider than the kernel's reach, strides, one image
// (work split inside the image) and several.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outSize, referenceKernels as ref } from '../src/native/index.js';
import type { ConvGeometry } from '../src/native/index.js';
import { ShapeError } from '../src/util/errors.js';
import { Rng, assertClose, assertExact, nanFilled, nativeOrFail, randn } from './helpers.js';

function geom(n: number, cin: number, h: number, w: number, cout: number, kh: number, kw: number,
              s: number, p: number): ConvGeometry {
  return { n, cin, h, w, cout, kh, kw, sh: s, sw: s, ph: p, pw: p };
}
const outLen = (g: ConvGeometry) => g.n * g.cout * outSize(g.h, g.kh, g.sh, g.ph) * outSize(g.w, g.kw, g.sw, g.pw);
const name = (g: ConvGeometry) => `xnor n${g.n} ${g.cin}->${g.cout} ${g.h}x${g.w} k${g.kh}x${g.kw} s${g.sh} p${g.ph}`;

const cases: ConvGeometry[] = [
  geom(2, 16, 9, 9, 16, 3, 3, 1, 1),     // 144-bit fields: taps straddle words
  geom(3, 1, 5, 6, 3, 3, 3, 1, 1),
  geom(1, 3, 12, 11, 5, 3, 3, 2, 1),     // one image: split into pixel blocks
  geom(2, 17, 8, 8, 6, 3, 3, 1, 2),      // padding 2: corner pixels miss 5 taps
  geom(2, 32, 10, 10, 9, 3, 3, 2, 1),
  geom(1, 64, 6, 6, 7, 3, 3, 1, 1),      // word-aligned taps
  geom(2, 65, 5, 7, 4, 3, 3, 1, 1),      // one bit into a second word
  geom(1, 130, 4, 4, 5, 3, 3, 1, 1),
  geom(2, 20, 7, 7, 8, 1, 1, 1, 0),      // pointwise
  geom(2, 8, 7, 9, 3, 3, 1, 1, 1),       // non-square kernel
  geom(1, 5, 9, 9, 4, 5, 5, 2, 2),
  geom(1, 3, 8, 8, 2, 8, 8, 1, 3),       // 64 taps: the limit
  geom(5, 24, 16, 16, 10, 3, 3, 1, 1),   // several 64-pixel blocks per image
];

/** Inputs with exact zeros and -0 (both sign to +1) and a mix of +-1 codes. */
function inputs(g: ConvGeometry, rng: Rng) {
  const x = randn(rng, g.n * g.cin * g.h * g.w);
  for (let i = 0; i < x.length; i += 7) x[i] = i % 14 === 0 ? 0 : -0;
  const codes = Int8Array.from({ length: g.cout * g.cin * g.kh * g.kw }, () => (rng.uniform() < 0.5 ? -1 : 1));
  const scales = Float32Array.from({ length: g.cout }, () => 0.05 + rng.uniform());
  const bias = randn(rng, g.cout);
  return { x, codes, scales, bias };
}

test('xnor conv: native equals the integer reference, with and without bias', () => {
  const k = nativeOrFail(), rng = new Rng(11);
  for (const g of cases) {
    const { x, codes, scales, bias } = inputs(g, rng);
    for (const b of [null, bias]) {
      const want = nanFilled(outLen(g)), got = nanFilled(outLen(g));
      ref.xnorConv2dForward(g, x, codes, scales, b, want);
      k.xnorConv2dForward(g, x, codes, scales, b, got);
      assertExact(got, want, `${name(g)}${b ? ' +bias' : ''}`);
    }
  }
});

test('xnor conv: equals the float conv of sign(x) and scale * codes', () => {
  const k = nativeOrFail(), rng = new Rng(12);
  for (const g of cases) {
    const { x, codes, scales, bias } = inputs(g, rng);
    const sx = new Float32Array(x.length);
    ref.signForward(x.length, x, sx);
    const filterSize = g.cin * g.kh * g.kw, w = new Float32Array(codes.length);
    ref.codesToWeights(g.cout, filterSize, codes, scales, w);
    const want = nanFilled(outLen(g)), got = nanFilled(outLen(g));
    ref.conv2dForward(g, sx, w, bias, want);
    k.xnorConv2dForward(g, x, codes, scales, bias, got);
    // Float sums of +-scale terms versus scale * exact count: a few ulps.
    assertClose(got, want, { rtol: 1e-5, atol: 1e-6 }, name(g));
  }
});

test('xnor conv: a flipped weight or input bit changes the output (the test can fail)', () => {
  const k = nativeOrFail(), rng = new Rng(13), g = geom(1, 16, 6, 6, 4, 3, 3, 1, 1);
  const { x, codes, scales } = inputs(g, rng);
  const base = nanFilled(outLen(g));
  k.xnorConv2dForward(g, x, codes, scales, null, base);
  const flipped = codes.slice();
  flipped[5] = -flipped[5];
  const y = nanFilled(outLen(g));
  k.xnorConv2dForward(g, x, flipped, scales, null, y);
  assert.notDeepEqual(y, base);
  const x2 = x.slice();
  x2[20] = x2[20] < 0 ? 1 : -1;
  k.xnorConv2dForward(g, x2, codes, scales, null, y);
  assert.notDeepEqual(y, base);
});

test('xnor conv: more than 64 kernel taps is a shape error', () => {
  const k = nativeOrFail(), g = geom(1, 2, 9, 9, 2, 9, 9, 1, 0);
  const { x, codes, scales } = inputs(g, new Rng(14));
  assert.throws(() => k.xnorConv2dForward(g, x, codes, scales, null, new Float32Array(outLen(g))), ShapeError);
});
