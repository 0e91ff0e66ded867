// The binary weight of a layer: latent floats -> codes -> scale * codes, as a
// differentiable op with the straight-through backward, cached by the latent
// tensor's version so that evaluation quantizes once until the weights change.
import { Tensor, record, accumulateGrad } from '../autograd/index.js';
import { floatPool } from '../autograd/pool.js';
import { kernels } from '../native/index.js';
import type { Parameter } from '../nn/index.js';
import { UserError } from '../util/errors.js';
import type { WeightQuantizer } from './weight-quantizers.js';

/**
 * How the codes are scaled:
 * - fixed: the paper's gain / sqrt(fan_in) for every filter (gain sqrt(2), for
 *   ReLU); with scaleFan (halfmask), fan_in counts only the unpruned weights.
 * - xnor: XNOR-Net's per-filter mean |W| of the latent weights.
 * - none: the codes themselves.
 */
export type ScalingMode = 'fixed' | 'xnor' | 'none';
export const scalingModes: readonly ScalingMode[] = ['fixed', 'xnor', 'none'];

export interface ScalingOptions { scaling?: ScalingMode; gain?: number; scaleFan?: boolean }

export function checkScaling(mode: string): ScalingMode {
  if (!(scalingModes as readonly string[]).includes(mode)) throw new UserError(`unknown scaling "${mode}" (known: ${scalingModes.join(', ')})`);
  return mode as ScalingMode;
}

export class BinaryWeight {
  /** Current codes, [filters, filterSize] in the weight's layout. */
  readonly codes: Int8Array;
  /** Effective weights scale * code, same layout. */
  readonly values: Float32Array;
  /** One scale per output filter. */
  readonly scales: Float32Array;
  readonly filters: number;
  readonly filterSize: number;
  private cachedVersion = -1;
  private cachedFor: Float32Array | null = null;
  /** The quantizer's per-filter scale factors (IR-Net), kept between refreshes. */
  private factors: Float32Array | null = null;
  /** How many times the codes were computed (tests use it to see the cache work). */
  encodeCount = 0;

  constructor(readonly latent: Parameter, readonly quantizer: WeightQuantizer, readonly scaling: Required<ScalingOptions>) {
    this.filters = latent.shape[0];
    this.filterSize = latent.numel / this.filters;
    this.codes = new Int8Array(latent.numel);
    this.values = new Float32Array(latent.numel);
    this.scales = new Float32Array(this.filters);
  }

  /** Groups the quantizer ranks over: per filter, or the whole layer. */
  get groups(): number { return this.quantizer.group === 'layer' ? 1 : this.filters; }
  get groupSize(): number { return this.latent.numel / this.groups; }

  /** Recomputes codes, scales and values if the latent weights changed since last time. */
  refresh(): void {
    const t = this.latent;
    if (this.cachedVersion === t.version && this.cachedFor === t.data) return;
    this.quantizer.encode(t.data, this.groups, this.groupSize, this.codes);
    this.computeScales();
    kernels.codesToWeights(this.filters, this.filterSize, this.codes, this.scales, this.values);
    this.cachedVersion = t.version;
    this.cachedFor = t.data;
    this.encodeCount++;
  }

  private computeScales(): void {
    this.baseScales();
    const { quantizer, latent, filters, filterSize, scales } = this;
    if (!quantizer.scaleFactors) return;
    const factors = (this.factors ??= new Float32Array(filters));
    quantizer.scaleFactors(latent.data, filters, filterSize, factors);
    for (let f = 0; f < filters; f++) scales[f] *= factors[f];
  }

  private baseScales(): void {
    const { latent, filters, filterSize, scales } = this;
    const { scaling, gain, scaleFan } = this.scaling;
    if (scaling === 'none') { scales.fill(1); return; }
    if (scaling === 'fixed') {
      const kept = scaleFan && 'pruneRate' in this.quantizer ? 1 - (this.quantizer as { pruneRate: number }).pruneRate : 1;
      scales.fill(gain / Math.sqrt(Math.max(1, filterSize * kept)));
      return;
    }
    for (let f = 0; f < filters; f++) {
      let s = 0;
      for (let i = f * filterSize; i < (f + 1) * filterSize; i++) s += Math.abs(latent.data[i]);
      scales[f] = s / filterSize;
    }
  }

  /**
   * The effective weight as a tensor of the latent's shape. Its backward sends
   * d(loss)/d(weight) * scale to the latent weights (straight through), or
   * through the quantizer's own backward when it has one.
   */
  forward(): Tensor {
    this.refresh();
    const out = new Tensor(this.values, this.latent.shape);
    const { filters, filterSize, scales, quantizer, latent } = this;
    record(out, [latent], (gy) => accumulateGrad(latent, (dst) => {
      if (!quantizer.backward) return kernels.channelScale(1, filters, filterSize, gy, scales, dst);
      const scaled = floatPool.acquire(latent.numel);
      kernels.channelScale(1, filters, filterSize, gy, scales, scaled);
      quantizer.backward(latent.data, filters, filterSize, scaled, dst);
      floatPool.release(scaled);
    }));
    return out;
  }
}
