// Weight initialisation, matching PyTorch's formulas so that models start
// from the same distributions as the reference code.
import type { Tensor } from '../autograd/index.js';
import { Rng, globalRng } from '../util/prng.js';

/** fan_in and fan_out of a weight: [out, in] or [out, in, kh, kw]. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] ?? 1) * receptive, fanOut: shape[0] * receptive };
}

export function uniform(t: Tensor, lo: number, hi: number, rng: Rng = globalRng): void {
  rng.fillUniform(t.data, lo, hi);
}

export function normal(t: Tensor, mean = 0, std = 1, rng: Rng = globalRng): void {
  rng.fillNormal(t.data, mean, std);
}

export function constant(t: Tensor, value: number): void {
  t.data.fill(value);
}

export interface KaimingOptions { mode?: 'fan_in' | 'fan_out'; /** leaky-ReLU slope; 0 for ReLU */ a?: number; rng?: Rng }

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const { fanIn, fanOut } = fans(t.shape);
  const fan = (opts.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  const gain = Math.sqrt(2 / (1 + (opts.a ?? 0) ** 2));
  return gain / Math.sqrt(fan);
}

/** He normal: N(0, gain / sqrt(fan)). */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): void {
  normal(t, 0, kaimingStd(t, opts), opts.rng);
}

/** He uniform: U(-b, b) with b = sqrt(3) * gain / sqrt(fan). */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): void {
  const b = Math.sqrt(3) * kaimingStd(t, opts);
  uniform(t, -b, b, opts.rng);
}

/**
 * PyTorch's default for Conv2d and Linear: weights kaiming_uniform(a = sqrt(5)),
 * i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
export function torchDefault(weight: Tensor, bias: Tensor | null, rng: Rng = globalRng): void {
  kaimingUniform(weight, { a: Math.sqrt(5), rng });
  if (bias) {
    const b = 1 / Math.sqrt(fans(weight.shape).fanIn);
    uniform(bias, -b, b, rng);
  }
}
