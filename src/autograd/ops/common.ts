// Small helpers shared by the differentiable ops.
import { Tensor, accumulateGrad } from '../tensor.js';
import { floatPool } from '../pool.js';
import { ShapeError } from '../../util/errors.js';

/**
 * For kernels that produce several gradients in one pass (batch norm, PReLU):
 * runs `compute` into t's gradient when t needs one, else into a scratch
 * buffer so the other gradients still get computed.
 */
export function gradOrScratch(t: Tensor, compute: (dst: Float32Array) => void): void {
  if (t.requiresGrad) return accumulateGrad(t, compute);
  const tmp = floatPool.acquire(t.numel);
  compute(tmp);
  floatPool.release(tmp);
}

export function expectRank(op: string, t: Tensor, ranks: number[]): void {
  if (!ranks.includes(t.shape.length)) {
    throw new ShapeError(`${op}: expected a ${ranks.join(' or ')}-D tensor, got shape [${t.shape.join(', ')}]`);
  }
}

export function expectShape(op: string, what: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${what} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

/** A number or a [h, w] pair, as conv and pool arguments are given. */
export type Pair = number | readonly [number, number];
export const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
