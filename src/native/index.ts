// Loads the kernel backend (the native addon, or the TypeScript reference
// where the addon cannot load) and wraps it with the one place that checks
// buffer lengths, so a wrong shape is a clear error instead of a wild write.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import type { ConvGeometry, F32, I32, Kernels, PoolGeometry } from './api.js';
import { outSize } from './api.js';
import { reference } from './reference/index.js';
import { ShapeError } from '../util/errors.js';
import { chooseBlasCore } from './blas-core.js';

export type { ConvGeometry, PoolGeometry, Kernels, F32, I32, I8 } from './api.js';
export { outSize } from './api.js';

export type BackendName = 'native' | 'reference';

/** Finds build/Release/equalbits.node from either src/native or dist/src/native. */
function addonPath(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'build', 'Release', 'equalbits.node');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return null;
}

let nativeError = '';
function loadNative(): Kernels | null {
  const p = addonPath();
  if (!p) { nativeError = 'build/Release/equalbits.node not found (run npm run build)'; return null; }
  // Before the addon loads: OpenBLAS reads it once, when it is loaded.
  chooseBlasCore();
  try {
    return createRequire(import.meta.url)(p) as Kernels;
  } catch (e) {
    nativeError = (e as Error).message;
    return null;
  }
}

/** Raw, unchecked native kernels, or null when the addon is not available. */
const forcedReference = process.env.EQUALBITS_BACKEND === 'reference';
if (forcedReference) nativeError = 'disabled by EQUALBITS_BACKEND=reference';
export const nativeKernels: Kernels | null = forcedReference ? null : loadNative();
/**
 * Whether binary layers with +-1 inputs run their forward as XNOR + popcount
 * (default). EQUALBITS_XNOR=0 turns it off, for A/B benchmarks.
 */
export const xnorEnabled = typeof process === 'undefined' || process.env?.EQUALBITS_XNOR !== '0';
/** Why the native addon did not load (empty when it did). */
export const nativeLoadError = (): string => nativeError;

function need(name: string, buf: ArrayLike<number> | null, len: number): void {
  if (buf === null) throw new ShapeError(`${name}: missing buffer of length ${len}`);
  if (buf.length !== len) throw new ShapeError(`${name}: buffer has ${buf.length} elements, shape needs ${len}`);
}
function positive(name: string, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${name}: ${k} must be a non-negative integer, got ${v}`);
  }
}
function convOut(g: ConvGeometry): [number, number] {
  positive('conv2d', g as unknown as Record<string, number>);
  if (g.sh < 1 || g.sw < 1 || g.kh < 1 || g.kw < 1) throw new ShapeError('conv2d: kernel and stride must be >= 1');
  const oh = outSize(g.h, g.kh, g.sh, g.ph), ow = outSize(g.w, g.kw, g.sw, g.pw);
  if (oh < 1 || ow < 1) throw new ShapeError(`conv2d: ${g.kh}x${g.kw} kernel does not fit a ${g.h}x${g.w} input with padding ${g.ph},${g.pw}`);
  return [oh, ow];
}
function poolOut(name: string, g: PoolGeometry): [number, number] {
  positive(name, g as unknown as Record<string, number>);
  if (g.sh < 1 || g.sw < 1 || g.kh < 1 || g.kw < 1) throw new ShapeError(`${name}: window and stride must be >= 1`);
  if (2 * g.ph > g.kh || 2 * g.pw > g.kw) throw new ShapeError(`${name}: padding must be at most half the window`);
  const oh = outSize(g.h, g.kh, g.sh, g.ph), ow = outSize(g.w, g.kw, g.sw, g.pw);
  if (oh < 1 || ow < 1) throw new ShapeError(`${name}: window does not fit a ${g.h}x${g.w} input`);
  return [oh, ow];
}

/** Wraps a backend with length checks; the checks cost O(1) per call. */
export function checked(k: Kernels): Kernels {
  return {
    setNumThreads: (n) => {
      if (!Number.isInteger(n) || n < 1) throw new ShapeError(`threads must be a positive integer, got ${n}`);
      k.setNumThreads(n);
    },
    getNumThreads: () => k.getNumThreads(),
    blasCore: () => k.blasCore(),
    sgemm(transA, transB, m, n, kk, alpha, a, b, beta, c) {
      positive('sgemm', { m, n, k: kk });
      need('sgemm A', a, m * kk); need('sgemm B', b, kk * n); need('sgemm C', c, m * n);
      k.sgemm(transA, transB, m, n, kk, alpha, a, b, beta, c);
    },
    conv2dForward(g, x, w, bias, y) {
      const [oh, ow] = convOut(g);
      need('conv2d x', x, g.n * g.cin * g.h * g.w); need('conv2d weight', w, g.cout * g.cin * g.kh * g.kw);
      if (bias) need('conv2d bias', bias, g.cout);
      need('conv2d y', y, g.n * g.cout * oh * ow);
      k.conv2dForward(g, x, w, bias, y);
    },
    xnorConv2dForward(g, x, codes, scales, bias, y) {
      const [oh, ow] = convOut(g);
      if (g.kh * g.kw > 64) throw new ShapeError(`xnorConv2d: at most 64 kernel taps, got ${g.kh}x${g.kw}`);
      need('xnorConv2d x', x, g.n * g.cin * g.h * g.w); need('xnorConv2d codes', codes, g.cout * g.cin * g.kh * g.kw);
      need('xnorConv2d scales', scales, g.cout);
      if (bias) need('xnorConv2d bias', bias, g.cout);
      need('xnorConv2d y', y, g.n * g.cout * oh * ow);
      k.xnorConv2dForward(g, x, codes, scales, bias, y);
    },
    conv2dBackwardData(g, dy, w, dx) {
      const [oh, ow] = convOut(g);
      need('conv2d dy', dy, g.n * g.cout * oh * ow); need('conv2d weight', w, g.cout * g.cin * g.kh * g.kw);
      need('conv2d dx', dx, g.n * g.cin * g.h * g.w);
      k.conv2dBackwardData(g, dy, w, dx);
    },
    conv2dBackwardWeight(g, x, dy, dw, db) {
      const [oh, ow] = convOut(g);
      need('conv2d x', x, g.n * g.cin * g.h * g.w); need('conv2d dy', dy, g.n * g.cout * oh * ow);
      need('conv2d dw', dw, g.cout * g.cin * g.kh * g.kw);
      if (db) need('conv2d db', db, g.cout);
      k.conv2dBackwardWeight(g, x, dy, dw, db);
    },
    batchNormForwardTrain(n, c, hw, x, gamma, beta, eps, momentum, rm, rv, y, sm, si) {
      positive('batchnorm', { n, c, hw });
      if (n * hw < 2) throw new ShapeError('batchnorm: training needs more than one value per channel');
      for (const [nm, b] of [['x', x], ['y', y]] as const) need(`batchnorm ${nm}`, b, n * c * hw);
      for (const [nm, b] of [['gamma', gamma], ['beta', beta], ['runningMean', rm], ['runningVar', rv], ['saveMean', sm], ['saveInvStd', si]] as const) need(`batchnorm ${nm}`, b, c);
      k.batchNormForwardTrain(n, c, hw, x, gamma, beta, eps, momentum, rm, rv, y, sm, si);
    },
    batchNormForwardEval(n, c, hw, x, gamma, beta, eps, rm, rv, y, sm, si) {
      positive('batchnorm', { n, c, hw });
      for (const [nm, b] of [['x', x], ['y', y]] as const) need(`batchnorm ${nm}`, b, n * c * hw);
      for (const [nm, b] of [['gamma', gamma], ['beta', beta], ['runningMean', rm], ['runningVar', rv], ['saveMean', sm], ['saveInvStd', si]] as const) need(`batchnorm ${nm}`, b, c);
      k.batchNormForwardEval(n, c, hw, x, gamma, beta, eps, rm, rv, y, sm, si);
    },
    batchNormBackward(n, c, hw, x, dy, gamma, sm, si, batchStats, dx, dgamma, dbeta) {
      positive('batchnorm', { n, c, hw });
      for (const [nm, b] of [['x', x], ['dy', dy], ['dx', dx]] as const) need(`batchnorm ${nm}`, b, n * c * hw);
      for (const [nm, b] of [['gamma', gamma], ['saveMean', sm], ['saveInvStd', si], ['dgamma', dgamma], ['dbeta', dbeta]] as const) need(`batchnorm ${nm}`, b, c);
      k.batchNormBackward(n, c, hw, x, dy, gamma, sm, si, batchStats, dx, dgamma, dbeta);
    },
    maxPool2dForward(g, x, y, argmax) {
      const [oh, ow] = poolOut('maxpool', g);
      need('maxpool x', x, g.n * g.c * g.h * g.w); need('maxpool y', y, g.n * g.c * oh * ow); need('maxpool argmax', argmax, g.n * g.c * oh * ow);
      k.maxPool2dForward(g, x, y, argmax);
    },
    maxPool2dBackward(g, dy, argmax, dx) {
      const [oh, ow] = poolOut('maxpool', g);
      need('maxpool dy', dy, g.n * g.c * oh * ow); need('maxpool argmax', argmax, g.n * g.c * oh * ow); need('maxpool dx', dx, g.n * g.c * g.h * g.w);
      k.maxPool2dBackward(g, dy, argmax, dx);
    },
    avgPool2dForward(g, x, y) {
      const [oh, ow] = poolOut('avgpool', g);
      need('avgpool x', x, g.n * g.c * g.h * g.w); need('avgpool y', y, g.n * g.c * oh * ow);
      k.avgPool2dForward(g, x, y);
    },
    avgPool2dBackward(g, dy, dx) {
      const [oh, ow] = poolOut('avgpool', g);
      need('avgpool dy', dy, g.n * g.c * oh * ow); need('avgpool dx', dx, g.n * g.c * g.h * g.w);
      k.avgPool2dBackward(g, dy, dx);
    },
    globalAvgPoolForward(n, c, hw, x, y) {
      positive('global avgpool', { n, c, hw });
      need('global avgpool x', x, n * c * hw); need('global avgpool y', y, n * c);
      k.globalAvgPoolForward(n, c, hw, x, y);
    },
    globalAvgPoolBackward(n, c, hw, dy, dx) {
      positive('global avgpool', { n, c, hw });
      need('global avgpool dy', dy, n * c); need('global avgpool dx', dx, n * c * hw);
      k.globalAvgPoolBackward(n, c, hw, dy, dx);
    },
    add(len, a, b, out) { need('add a', a, len); need('add b', b, len); need('add out', out, len); k.add(len, a, b, out); },
    mul(len, a, b, out) { need('mul a', a, len); need('mul b', b, len); need('mul out', out, len); k.mul(len, a, b, out); },
    scale(len, a, alpha, out) { need('scale a', a, len); need('scale out', out, len); k.scale(len, a, alpha, out); },
    axpy(len, alpha, x, y) { need('axpy x', x, len); need('axpy y', y, len); k.axpy(len, alpha, x, y); },
    channelScale(n, c, hw, x, scales, y) {
      need('channelScale x', x, n * c * hw); need('channelScale scales', scales, c); need('channelScale y', y, n * c * hw);
      k.channelScale(n, c, hw, x, scales, y);
    },
    biasAdd(n, c, hw, bias, y) { need('biasAdd bias', bias, c); need('biasAdd y', y, n * c * hw); k.biasAdd(n, c, hw, bias, y); },
    biasGrad(n, c, hw, dy, db) { need('biasGrad dy', dy, n * c * hw); need('biasGrad db', db, c); k.biasGrad(n, c, hw, dy, db); },
    relu(len, x, y) { need('relu x', x, len); need('relu y', y, len); k.relu(len, x, y); },
    reluBackward(len, x, dy, dx) { need('relu x', x, len); need('relu dy', dy, len); need('relu dx', dx, len); k.reluBackward(len, x, dy, dx); },
    prelu(n, c, hw, x, alpha, y) { need('prelu x', x, n * c * hw); need('prelu alpha', alpha, c); need('prelu y', y, n * c * hw); k.prelu(n, c, hw, x, alpha, y); },
    preluBackward(n, c, hw, x, alpha, dy, dx, dalpha) {
      for (const [nm, b] of [['x', x], ['dy', dy], ['dx', dx]] as const) need(`prelu ${nm}`, b, n * c * hw);
      need('prelu alpha', alpha, c); need('prelu dalpha', dalpha, c);
      k.preluBackward(n, c, hw, x, alpha, dy, dx, dalpha);
    },
    hardtanh(len, x, lo, hi, y) { need('hardtanh x', x, len); need('hardtanh y', y, len); k.hardtanh(len, x, lo, hi, y); },
    hardtanhBackward(len, x, lo, hi, dy, dx) {
      need('hardtanh x', x, len); need('hardtanh dy', dy, len); need('hardtanh dx', dx, len);
      k.hardtanhBackward(len, x, lo, hi, dy, dx);
    },
    softmaxCrossEntropy(n, classes, logits, labels, dlogits) {
      positive('cross-entropy', { n, classes });
      need('cross-entropy logits', logits, n * classes); need('cross-entropy labels', labels, n);
      if (dlogits) need('cross-entropy dlogits', dlogits, n * classes);
      for (let i = 0; i < n; i++) {
        const l = labels[i];
        if (!(l >= 0 && l < classes)) throw new ShapeError(`cross-entropy: label ${l} at row ${i} is outside 0..${classes - 1}`);
      }
      return k.softmaxCrossEntropy(n, classes, logits, labels, dlogits);
    },
    rankCodes(groups, groupSize, latent, low, high, codes) {
      positive('rankCodes', { groups, groupSize, low, high });
      if (low > high || high > groupSize) throw new ShapeError(`rankCodes: need 0 <= low (${low}) <= high (${high}) <= group size (${groupSize})`);
      need('rankCodes latent', latent, groups * groupSize); need('rankCodes codes', codes, groups * groupSize);
      k.rankCodes(groups, groupSize, latent, low, high, codes);
    },
    balancedCodes(filters, n, latent, codes) {
      positive('balancedCodes', { filters, n });
      need('balancedCodes latent', latent, filters * n); need('balancedCodes codes', codes, filters * n);
      k.balancedCodes(filters, n, latent, codes);
    },
    balancedScales(filters, n, latent, factors) {
      positive('balancedScales', { filters, n });
      need('balancedScales latent', latent, filters * n); need('balancedScales factors', factors, filters);
      k.balancedScales(filters, n, latent, factors);
    },
    balancedBackward(filters, n, latent, g, out) {
      positive('balancedBackward', { filters, n });
      for (const [what, a] of [['latent', latent], ['g', g], ['out', out]] as const) need(`balancedBackward ${what}`, a, filters * n);
      k.balancedBackward(filters, n, latent, g, out);
    },
    signCodes(len, latent, codes) { need('signCodes latent', latent, len); need('signCodes codes', codes, len); k.signCodes(len, latent, codes); },
    codesToWeights(groups, groupSize, codes, scales, out) {
      positive('codesToWeights', { groups, groupSize });
      need('codesToWeights codes', codes, groups * groupSize); need('codesToWeights scales', scales, groups); need('codesToWeights out', out, groups * groupSize);
      k.codesToWeights(groups, groupSize, codes, scales, out);
    },
    signForward(len, x, y) { need('sign x', x, len); need('sign y', y, len); k.signForward(len, x, y); },
    signBackward(len, x, dy, mode, dx, accumulate = false, t = 1, kk = 1) {
      if (mode !== 0 && mode !== 1 && mode !== 2) throw new ShapeError(`signBackward: mode must be 0 (STE), 1 (ApproxSign) or 2 (EDE), got ${mode}`);
      if (!(t > 0 && Number.isFinite(t) && kk > 0 && Number.isFinite(kk))) throw new ShapeError(`signBackward: t and k must be finite and > 0, got ${t}, ${kk}`);
      need('sign x', x, len); need('sign dy', dy, len); need('sign dx', dx, len);
      k.signBackward(len, x, dy, mode, dx, accumulate, t, kk);
    },
    sgdStep(len, p, g, buf, lr, momentum, dampening, wd, nesterov, first) {
      need('sgd param', p, len); need('sgd grad', g, len);
      if (momentum !== 0) need('sgd momentum buffer', buf, len);
      k.sgdStep(len, p, g, buf, lr, momentum, dampening, wd, nesterov, first);
    },
    adamStep(len, p, g, m, v, lr, b1, b2, eps, wd, decoupled, step) {
      need('adam param', p, len); need('adam grad', g, len); need('adam m', m, len); need('adam v', v, len);
      if (!Number.isInteger(step) || step < 1) throw new ShapeError(`adam: step must be >= 1, got ${step}`);
      k.adamStep(len, p, g, m, v, lr, b1, b2, eps, wd, decoupled, step);
    },
  };
}

/** Which backend the engine uses: the addon when it loaded, else the reference. */
export const backendName: BackendName = nativeKernels ? 'native' : 'reference';
/** The checked kernels every layer above calls. */
export const kernels: Kernels = checked(nativeKernels ?? reference);
/** The checked TypeScript reference, for tests and for runtimes without the addon. */
export const referenceKernels: Kernels = checked(reference);

export type { F32 as Float32Buffer, I32 as Int32Buffer };
