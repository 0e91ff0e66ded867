// The kernel contract shared by the native addon (native/*.cc) and the plain
// TypeScript reference (src/native/reference/*.ts). Every kernel works on raw
// float32 buffers with explicit shapes, row-major, NCHW; conv weights are
// [cout, cin, kh, kw] and linear weights [out, in], as in PyTorch.
//
// Conventions that both implementations must follow exactly:
// - Output buffers are OVERWRITTEN, never accumulated into, unless a comment
//   says otherwise. Callers (autograd) do the accumulation.
// - Kernels never allocate JS objects and never check lengths: the checked
//   wrapper in src/native/index.ts validates every buffer length once, for
//   both backends, before the call.
// - Buffers passed as distinct arguments do not alias, except where a comment
//   allows in-place use (out === x).

export type F32 = Float32Array;
export type I32 = Int32Array;
export type I8 = Int8Array;

/** Geometry of a 2-D convolution (dilation 1, groups 1). */
export interface ConvGeometry {
  n: number; cin: number; h: number; w: number;
  cout: number; kh: number; kw: number;
  sh: number; sw: number; // stride
  ph: number; pw: number; // zero padding on each side
}

/** Geometry of a 2-D pooling window over [n, c, h, w]. */
export interface PoolGeometry {
  n: number; c: number; h: number; w: number;
  kh: number; kw: number;
  sh: number; sw: number;
  ph: number; pw: number;
}

/** Output size of a window op: floor((in + 2 pad - k) / stride) + 1. */
export function outSize(inSize: number, k: number, stride: number, pad: number): number {
  return Math.floor((inSize + 2 * pad - k) / stride) + 1;
}

export interface Kernels {
  /** Threads used by BLAS and by the native kernels (the reference ignores it). */
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** The kernel set BLAS runs with (OpenBLAS's core name; "reference" for the TypeScript kernels). */
  blasCore(): string;

  // ---- dense algebra -------------------------------------------------------
  /**
   * C = alpha * op(A) * op(B) + beta * C, with op(A) [m, k] and op(B) [k, n].
   * A is stored [m, k] (transA false) or [k, m] (transA true); B is stored
   * [k, n] or [n, k]; C is [m, n]. All row-major and densely packed. With
   * beta = 0 the old contents of C are ignored (even NaN).
   */
  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number,
        alpha: number, a: F32, b: F32, beta: number, c: F32): void;

  // ---- convolution ---------------------------------------------------------
  /** y[n, cout, oh, ow] = conv(x[n, cin, h, w], w) + bias[cout] (bias may be null). */
  conv2dForward(g: ConvGeometry, x: F32, weight: F32, bias: F32 | null, y: F32): void;
  /** dx[n, cin, h, w] = gradient of the conv w.r.t. its input, given dy. */
  conv2dBackwardData(g: ConvGeometry, dy: F32, weight: F32, dx: F32): void;
  /** dw[cout, cin, kh, kw] and (if not null) db[cout] from x and dy. */
  conv2dBackwardWeight(g: ConvGeometry, x: F32, dy: F32, dw: F32, db: F32 | null): void;

  /**
   * Binary conv (1W/1A), computed with XNOR and popcount:
   * y = conv(sign(x), scales[co] * codes) + bias, sign(x) = -1 where x < 0,
   * else +1; codes are -1/+1 in the [cout, cin, kh, kw] layout; zero padding
   * contributes 0 (a code < 0 means -1, any other +1). Each output is
   * scales[co] * (an exact integer count) + bias[co], rounded once to
   * float32 (bias may be null). Needs kh * kw <= 64.
   */
  xnorConv2dForward(g: ConvGeometry, x: F32, codes: I8, scales: F32, bias: F32 | null, y: F32): void;

  // ---- batch norm over [n, c, hw] (hw = 1 for BatchNorm1d on [n, c]) ---------
  /**
   * Training mode: normalise with the batch statistics (biased variance),
   * y = gamma * (x - mean) * invStd + beta, invStd = 1 / sqrt(var + eps).
   * Writes saveMean[c] and saveInvStd[c] for the backward, and updates the
   * running statistics in place the PyTorch way:
   *   running = (1 - momentum) * running + momentum * batchStat,
   * with the UNBIASED variance (n*hw / (n*hw - 1)) for runningVar.
   */
  batchNormForwardTrain(n: number, c: number, hw: number, x: F32, gamma: F32, beta: F32,
                        eps: number, momentum: number, runningMean: F32, runningVar: F32,
                        y: F32, saveMean: F32, saveInvStd: F32): void;
  /**
   * Eval mode: y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta.
   * Writes saveMean = runningMean and saveInvStd = 1/sqrt(runningVar + eps) so
   * the same backward kernel works (with batchStats = false).
   */
  batchNormForwardEval(n: number, c: number, hw: number, x: F32, gamma: F32, beta: F32,
                       eps: number, runningMean: F32, runningVar: F32,
                       y: F32, saveMean: F32, saveInvStd: F32): void;
  /**
   * dx, dgamma[c], dbeta[c] from dy. With batchStats = true the mean and
   * invStd are functions of x (training mode, full formula); with false they
   * are constants (eval mode: dx = dy * gamma * invStd).
   */
  batchNormBackward(n: number, c: number, hw: number, x: F32, dy: F32, gamma: F32,
                    saveMean: F32, saveInvStd: F32, batchStats: boolean,
                    dx: F32, dgamma: F32, dbeta: F32): void;

  // ---- pooling ---------------------------------------------------------------
  /**
   * Max pool. Padding counts as -Infinity. argmax[i] is the flat index
   * (within the [h, w] plane of its channel) of the winning input; ties go to
   * the first in row-major window order.
   */
  maxPool2dForward(g: PoolGeometry, x: F32, y: F32, argmax: I32): void;
  /** dx (overwritten, zero where no window chose it) from dy and argmax. */
  maxPool2dBackward(g: PoolGeometry, dy: F32, argmax: I32, dx: F32): void;
  /** Average pool; padding counts as zeros and the divisor is kh*kw (PyTorch's count_include_pad). */
  avgPool2dForward(g: PoolGeometry, x: F32, y: F32): void;
  avgPool2dBackward(g: PoolGeometry, dy: F32, dx: F32): void;
  /** y[n, c] = mean over hw of x[n, c, hw]. */
  globalAvgPoolForward(n: number, c: number, hw: number, x: F32, y: F32): void;
  globalAvgPoolBackward(n: number, c: number, hw: number, dy: F32, dx: F32): void;

  // ---- elementwise (length = number of elements; out may alias an input) ----
  add(len: number, a: F32, b: F32, out: F32): void;            // out = a + b
  mul(len: number, a: F32, b: F32, out: F32): void;            // out = a * b
  scale(len: number, a: F32, alpha: number, out: F32): void;   // out = alpha * a
  /** y += alpha * x (the one accumulating kernel: used for gradient sums). */
  axpy(len: number, alpha: number, x: F32, y: F32): void;
  /** Per-channel scale: y[n, c, hw] = x[n, c, hw] * scales[c]. */
  channelScale(n: number, c: number, hw: number, x: F32, scales: F32, y: F32): void;
  /** In place per-channel bias: y[n, c, hw] += bias[c]. */
  biasAdd(n: number, c: number, hw: number, bias: F32, y: F32): void;
  /** db[c] = sum over n and hw of dy[n, c, hw]. */
  biasGrad(n: number, c: number, hw: number, dy: F32, db: F32): void;
  relu(len: number, x: F32, y: F32): void;
  /** dx = dy where x > 0, else 0. */
  reluBackward(len: number, x: F32, dy: F32, dx: F32): void;
  /** y = x if x > 0 else alpha[c] * x, over [n, c, hw]. */
  prelu(n: number, c: number, hw: number, x: F32, alpha: F32, y: F32): void;
  /** dx, and dalpha[c] = sum of dy * x where x <= 0 (overwritten). */
  preluBackward(n: number, c: number, hw: number, x: F32, alpha: F32, dy: F32,
                dx: F32, dalpha: F32): void;
  /** y = min(max(x, lo), hi). */
  hardtanh(len: number, x: F32, lo: number, hi: number, y: F32): void;
  /** dx = dy where lo < x < hi, else 0. */
  hardtanhBackward(len: number, x: F32, lo: number, hi: number, dy: F32, dx: F32): void;

  // ---- loss ----------------------------------------------------------------
  /**
   * Softmax cross-entropy over logits [n, classes] and integer labels [n]
   * (each in 0..classes-1). Returns the mean loss over the batch. If dlogits
   * is not null, writes d(mean loss)/d(logits) = (softmax - onehot) / n.
   * Must be numerically stable (subtract the row max).
   */
  softmaxCrossEntropy(n: number, classes: number, logits: F32, labels: I32, dlogits: F32 | null): number;

  // ---- quantizers -----------------------------------------------------------
  /**
   * Rank-based weight codes (bi-half, any bit ratio, halfmask pruning). The
   * latents form `groups` consecutive runs of `groupSize` values. Within a
   * group, values are ordered by the IEEE-754 total order of their float32
   * bit patterns (-NaN < -Inf < ... < -0 < +0 < ... < +Inf < +NaN), ties going
   * to the lower index; ranks [0, low) get code -1, ranks [low, high) get 0,
   * ranks [high, groupSize) get +1. bi-half with ratio p: low = high =
   * floor((1-p) n); halfmask with prune rate k: low = floor((1-k)/2 n),
   * high = floor((1+k)/2 n). Needs 0 <= low <= high <= groupSize. Must be
   * O(n) per group (selection, not a sort).
   */
  rankCodes(groups: number, groupSize: number, latent: F32, low: number, high: number, codes: I8): void;
  /** codes = -1 where latent < 0, else +1 (so sign(0) = sign(-0) = +1, and NaN gives +1). */
  signCodes(len: number, latent: F32, codes: I8): void;
  /**
   * IR-Net's balanced weights, per filter of n latents with mean m and
   * unbiased std s (1 where the filter has no spread): codes = -1 where
   * latent < m, else +1.
   */
  balancedCodes(filters: number, n: number, latent: F32, codes: I8): void;
  /**
   * IR-Net's power-of-two factor per filter: 2^round(log2(mean |latent - m| / s)),
   * and 1 where the filter has no spread (IR-Net's own code divides by zero there).
   */
  balancedScales(filters: number, n: number, latent: F32, factors: F32): void;
  /**
   * The gradient through the standardisation z = (latent - m) / s, per filter:
   * out = (g - mean(g) - z * sum(g z) / (n - 1)) / s.
   */
  balancedBackward(filters: number, n: number, latent: F32, g: F32, out: F32): void;
  /** out[g, i] = scales[g] * codes[g, i]; scales has `groups` entries. */
  codesToWeights(groups: number, groupSize: number, codes: I8, scales: F32, out: F32): void;
  /** Activation sign: y = -1 where x < 0, else +1. */
  signForward(len: number, x: F32, y: F32): void;
  /**
   * Gradient of the activation sign. mode 0, clipped straight-through:
   * dx = dy where |x| < 1, else 0. mode 1, Bi-Real's ApproxSign:
   * dx = dy * (2 - 2|x|) where |x| < 1, else 0. mode 2, IR-Net's EDE:
   * dx = dy * k * t * (1 - tanh(t x)^2) for the given t and k (default 1).
   * With accumulate, the result is added to dx instead (dx += ...), saving a
   * temporary and a pass.
   */
  signBackward(len: number, x: F32, dy: F32, mode: number, dx: F32, accumulate?: boolean, t?: number, k?: number): void;

  // ---- optimizers (in place on param and state) -----------------------------
  /**
   * PyTorch's SGD: d = grad + weightDecay * param; with momentum > 0:
   * buf = firstStep ? d : momentum * buf + (1 - dampening) * d, then
   * d = nesterov ? d + momentum * buf : buf; finally param -= lr * d.
   * momentumBuf is untouched when momentum = 0.
   */
  sgdStep(len: number, param: F32, grad: F32, momentumBuf: F32, lr: number, momentum: number,
          dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean): void;
  /**
   * Adam (decoupled = false: grad += weightDecay * param) or AdamW
   * (decoupled = true: param *= 1 - lr * weightDecay first). Then
   * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
   * param -= lr * (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps).
   * step counts from 1.
   */
  adamStep(len: number, param: F32, grad: F32, m: F32, v: F32, lr: number, beta1: number,
           beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void;
}
