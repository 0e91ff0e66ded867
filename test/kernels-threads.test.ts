// The native addon against the TypeScript reference on shapes large enough to
// be split across threads (1 and 2 threads), and on empty sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernels } from '../src/native/index.js';
import { Rng, assertClose, assertExact, nanFilled, randn, randu } from './helpers.js';
import type { Tolerance } from './helpers.js';
import {
  FEW_OPS, REDUCTION, convInputs, convName, convOutLen, copy, geom, nat, pgeom, poolName, poolOutLen, ref,
} from './kernel-cases.js';

// ---------------------------------------------------------------------------
// Shapes large enough for the addon to split the work across threads
// ---------------------------------------------------------------------------

type Outputs = Record<string, Float32Array | Int32Array>;
interface BigCase { name: string; tol: Tolerance; run: (k: Kernels) => Outputs }

function bigCases(rng: Rng): BigCase[] {
  const cases: BigCase[] = [];
  // Convs above the addon's per-thread work grain: split by image (n = 4, and
  // an odd n = 3), within one image (n = 1, several im2col row blocks), and
  // the 1x1 path that skips im2col.
  for (const g of [geom(4, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1), geom(1, 32, 32, 32, 16, 3, 3, 1, 1, 1, 1),
    geom(3, 16, 23, 21, 24, 3, 3, 1, 1, 1, 1), geom(4, 64, 16, 16, 64, 1, 1, 1, 1, 0, 0)]) {
    const { x, w, bias, dy } = convInputs(g, rng);
    cases.push({
      name: convName(g), tol: REDUCTION,
      run: (k) => {
        const y = nanFilled(convOutLen(g)), dx = nanFilled(x.length), dw = nanFilled(w.length), db = nanFilled(g.cout);
        k.conv2dForward(g, x, w, bias, y);
        k.conv2dBackwardData(g, dy, w, dx);
        k.conv2dBackwardWeight(g, x, dy, dw, db);
        return { y, dx, dw, db };
      },
    });
  }
  // GEMMs split by columns (n >= m) and by rows, all transposes, beta applied once.
  for (const [m, n, kk] of [[96, 200, 150], [200, 40, 300]]) {
    const a = randu(rng, m * kk), b = randu(rng, kk * n), c0 = randu(rng, m * n);
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        cases.push({
          name: `sgemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${m}x${n}x${kk}`, tol: REDUCTION,
          run: (k) => { const c = copy(c0); k.sgemm(ta, tb, m, n, kk, 1.5, a, b, 0.5, c); return { c }; },
        });
      }
    }
  }
  // Batch norm split by channel, with hw > 1 and the hw = 1 layout.
  for (const [n, c, hw] of [[8, 16, 1024], [8192, 16, 1]]) {
    const len = n * c * hw;
    const x = randn(rng, len, 2, 1), dy = randn(rng, len), gamma = randu(rng, c, 0.5, 1.5), beta = randn(rng, c);
    const rm0 = randn(rng, c), rv0 = randu(rng, c, 0.5, 1.5);
    cases.push({
      name: `batchnorm n${n} c${c} hw${hw}`, tol: REDUCTION,
      run: (k) => {
        const rm = copy(rm0), rv = copy(rv0), y = nanFilled(len), sm = nanFilled(c), si = nanFilled(c);
        k.batchNormForwardTrain(n, c, hw, x, gamma, beta, 1e-5, 0.1, rm, rv, y, sm, si);
        // Backward from fixed statistics so both backends differentiate at the same point.
        const fm = new Float32Array(c).fill(1), fi = new Float32Array(c).fill(0.5);
        const dx = nanFilled(len), dg = nanFilled(c), db = nanFilled(c);
        k.batchNormBackward(n, c, hw, x, dy, gamma, fm, fi, true, dx, dg, db);
        const dxEval = nanFilled(len), dgEval = nanFilled(c), dbEval = nanFilled(c);
        k.batchNormBackward(n, c, hw, x, dy, gamma, fm, fi, false, dxEval, dgEval, dbEval);
        const yEval = nanFilled(len), smEval = nanFilled(c), siEval = nanFilled(c);
        k.batchNormForwardEval(n, c, hw, x, gamma, beta, 1e-5, rm0, rv0, yEval, smEval, siEval);
        return { y, sm, si, rm, rv, dx, dg, db, dxEval, dgEval, dbEval, yEval };
      },
    });
  }
  // Pooling split by plane.
  for (const g of [pgeom(8, 16, 32, 32, 3, 3, 2, 2, 1, 1), pgeom(8, 16, 32, 32, 2, 2, 2, 2, 0, 0)]) {
    const inLen = g.n * g.c * g.h * g.w, outLen = poolOutLen(g);
    const x = randn(rng, inLen), dy = randn(rng, outLen);
    cases.push({
      name: `pool ${poolName(g)}`, tol: REDUCTION,
      run: (k) => {
        const y = nanFilled(outLen), argmax = new Int32Array(outLen), dx = nanFilled(inLen);
        k.maxPool2dForward(g, x, y, argmax);
        k.maxPool2dBackward(g, dy, argmax, dx);
        const ya = nanFilled(outLen), dxa = nanFilled(inLen);
        k.avgPool2dForward(g, x, ya);
        k.avgPool2dBackward(g, dy, dxa);
        return { y, argmax, dx, ya, dxa };
      },
    });
  }
  {
    const [n, c, hw] = [8, 64, 256];
    const x = randn(rng, n * c * hw), dy = randn(rng, n * c);
    cases.push({
      name: `global avgpool n${n} c${c} hw${hw}`, tol: REDUCTION,
      run: (k) => {
        const y = nanFilled(n * c), dx = nanFilled(n * c * hw);
        k.globalAvgPoolForward(n, c, hw, x, y);
        k.globalAvgPoolBackward(n, c, hw, dy, dx);
        return { y, dx };
      },
    });
  }
  // Elementwise ops split in chunks (an odd length leaves a ragged last chunk).
  {
    const len = 200003;
    const a = randn(rng, len), b = randn(rng, len), y0 = randn(rng, len);
    cases.push({
      name: `elementwise len ${len}`, tol: FEW_OPS,
      run: (k) => {
        const o: Outputs = {};
        k.add(len, a, b, (o.add = nanFilled(len)) as Float32Array);
        k.mul(len, a, b, (o.mul = nanFilled(len)) as Float32Array);
        k.scale(len, a, 0.3, (o.scale = nanFilled(len)) as Float32Array);
        k.axpy(len, -0.7, a, (o.axpy = copy(y0)) as Float32Array);
        k.relu(len, a, (o.relu = nanFilled(len)) as Float32Array);
        k.reluBackward(len, a, b, (o.reluB = nanFilled(len)) as Float32Array);
        k.hardtanh(len, a, -0.5, 0.5, (o.ht = nanFilled(len)) as Float32Array);
        k.hardtanhBackward(len, a, -0.5, 0.5, b, (o.htB = nanFilled(len)) as Float32Array);
        const inPlace = copy(a);
        k.add(len, inPlace, b, inPlace);
        o.addInPlace = inPlace;
        return o;
      },
    });
  }
  for (const [n, c, hw] of [[4, 32, 1024], [8192, 16, 1]]) {
    const len = n * c * hw;
    const x = randn(rng, len), dy = randn(rng, len), bias = randn(rng, c), alpha = randu(rng, c, 0, 0.5), y0 = randn(rng, len);
    cases.push({
      name: `bias and prelu n${n} c${c} hw${hw}`, tol: REDUCTION,
      run: (k) => {
        const yb = copy(y0), db = nanFilled(c), y = nanFilled(len), dx = nanFilled(len), dalpha = nanFilled(c);
        k.biasAdd(n, c, hw, bias, yb);
        k.biasGrad(n, c, hw, dy, db);
        k.prelu(n, c, hw, x, alpha, y);
        k.preluBackward(n, c, hw, x, alpha, dy, dx, dalpha);
        return { yb, db, y, dx, dalpha };
      },
    });
  }
  {
    const len = 100003;
    const p0 = randn(rng, len), g1 = randn(rng, len), g2 = randn(rng, len);
    cases.push({
      name: `optimizers len ${len}`, tol: FEW_OPS,
      run: (k) => {
        const p = copy(p0), buf = nanFilled(len);
        k.sgdStep(len, p, g1, buf, 0.1, 0.9, 0, 1e-4, true, true);
        k.sgdStep(len, p, g2, buf, 0.1, 0.9, 0, 1e-4, true, false);
        const pa = copy(p0), m = new Float32Array(len), v = new Float32Array(len);
        k.adamStep(len, pa, g1, m, v, 1e-2, 0.9, 0.999, 1e-8, 1e-2, true, 1);
        k.adamStep(len, pa, g2, m, v, 1e-2, 0.9, 0.999, 1e-8, 1e-2, true, 2);
        return { p, buf, pa, m, v };
      },
    });
  }
  return cases;
}

test('large shapes: native matches reference with 1 and 2 threads', () => {
  const k = nat();
  const before = k.getNumThreads();
  try {
    for (const c of bigCases(new Rng(1001))) {
      const want = c.run(ref); // once: the reference is the slow side
      for (const t of [1, 2]) {
        k.setNumThreads(t);
        const got = c.run(k);
        for (const key of Object.keys(want)) {
          const what = `${c.name} with ${t} thread(s): ${key}`;
          if (want[key] instanceof Int32Array) assertExact(got[key], want[key], what);
          else assertClose(got[key], want[key], c.tol, what);
        }
      }
    }
  } finally {
    k.setNumThreads(before);
  }
});

test('empty sizes: native matches reference', () => {
  const k = nat();
  for (const kk of [ref, k]) {
    // The mean loss over an empty batch is NaN (0 / 0), as in PyTorch.
    assert.ok(Number.isNaN(kk.softmaxCrossEntropy(0, 5, new Float32Array(0), new Int32Array(0), new Float32Array(0))));
    const c = new Float32Array([1, NaN]);
    kk.sgemm(false, false, 0, 2, 3, 1, new Float32Array(0), new Float32Array(6), 0, new Float32Array(0));
    kk.sgemm(false, false, 1, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0, c);
    assertExact(c, [0, 0], 'sgemm with k = 0 and beta = 0 clears C');
    kk.conv2dForward(geom(0, 2, 3, 3, 2, 3, 3, 1, 1, 1, 1), new Float32Array(0), new Float32Array(36), null, new Float32Array(0));
    kk.add(0, new Float32Array(0), new Float32Array(0), new Float32Array(0));
  }
});
