// Parameter accounting: how many weights are binary, how many stay float,
// and what the model would weigh packed (binary codes as bits, the rest as
// float32).
import type { Module } from '../nn/index.js';
import { isBinaryLayer } from '../quant/index.js';
import { createModel, modelConfig, modelNames, type ModelConfig } from './registry.js';
import type { ModelOptions } from './options.js';

export interface ModelDescription {
  /** Absent for a module not built by createModel. */
  config?: ModelConfig;
  /** Trainable parameters (shared ones counted once). */
  totalParams: number;
  /** Latent weights of the binary layers: what gets stored as codes. */
  binaryParams: number;
  /** Every other parameter: float layers, BN affine, PReLU slopes, biases. */
  floatParams: number;
  /** Non-trained state (BN running mean/var and num_batches_tracked), stored as float32 too. */
  bufferValues: number;
  /** Binary layers in the model. */
  binaryLayers: number;
  /**
   * ceil(binary bits / 8) + 4 * (floatParams + bufferValues). One bit per
   * binary weight, two for ternary quantizers (halfmask's -1/0/+1). Per-filter
   * scales are not counted: the fixed scale follows from the shape, and
   * xnor/irnet scales are a few floats per filter.
   */
  packedBytes: number;
  /** float32 size of all parameters and buffers, for comparison. */
  floatBytes: number;
}

export function describeModule(model: Module): ModelDescription {
  let binary = 0, binaryBits = 0, layers = 0;
  for (const [, m] of model.namedModules()) {
    if (!isBinaryLayer(m)) continue;
    layers++;
    binary += m.weight.numel;
    binaryBits += m.weight.numel * (m.weightQuantizer.ternary ? 2 : 1);
  }
  const total = model.numParameters();
  const buffers = model.namedBuffers().reduce((s, [, b]) => s + b.numel, 0);
  const floats = total - binary;
  let config: ModelConfig | undefined;
  try { config = modelConfig(model); } catch { config = undefined; }
  return {
    ...(config ? { config } : {}),
    totalParams: total, binaryParams: binary, floatParams: floats, bufferValues: buffers, binaryLayers: layers,
    packedBytes: Math.ceil(binaryBits / 8) + 4 * (floats + buffers),
    floatBytes: 4 * (total + buffers),
  };
}

/** Builds the named model with these options and describes it. */
export function describeModel(name: string, opts: ModelOptions = {}): ModelDescription {
  return describeModule(createModel(name, opts));
}

/**
 * Every model of the zoo described with the same options (by default bi-half
 * weights, i.e. 1W/32A, which is what the zoo is for). Builds each model in
 * turn; ResNet-34 alone is 21M parameters, so this takes a second or two.
 */
export function listModels(opts: ModelOptions = { weights: 'bihalf' }): (ModelDescription & { name: string })[] {
  return modelNames().map((name) => ({ name, ...describeModel(name, opts) }));
}
