// Model options: what the user (or a checkpoint) asks for, checked and
// normalised into plain JSON so that { name, options } rebuilds the model.
import { weightQuantizer, activationQuantizer, scalingModes, type QuantizerConfig, type ScalingMode } from '../quant/index.js';
import { UserError } from '../util/errors.js';

export interface ModelOptions {
  numClasses?: number;
  inChannels?: number;
  imageSize?: number;
  /** 'float' = full-precision weights; a quantizer (name or config) = binary weights on the model's binary layers. */
  weights?: 'float' | QuantizerConfig | string;
  /** 'float' (or 'identity') = 32-bit activations; 'ste_sign' / 'approx_sign' / 'ede' = binary inputs to the binary layers. */
  activations?: 'float' | 'ste_sign' | 'approx_sign' | 'ede' | string;
  scaling?: ScalingMode;
  scaleFan?: boolean;
}

/** Every option filled in; weights is a full quantizer config so that a later default change cannot alter a saved model. */
export interface ResolvedOptions {
  numClasses: number;
  inChannels: number;
  imageSize: number;
  weights: 'float' | QuantizerConfig;
  activations: string;
  scaling: ScalingMode;
  scaleFan: boolean;
}

export interface ModelDefaults { numClasses: number; inChannels: number; imageSize: number; scaling: ScalingMode }

const KEYS = new Set(['numClasses', 'inChannels', 'imageSize', 'weights', 'activations', 'scaling', 'scaleFan']);

function positiveInt(model: string, key: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UserError(`${model}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

export function resolveOptions(model: string, opts: ModelOptions, defaults: ModelDefaults): ResolvedOptions {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new UserError(`${model}: options must be an object`);
  const unknown = Object.keys(opts).filter((k) => !KEYS.has(k));
  if (unknown.length) throw new UserError(`${model}: unknown option(s) ${unknown.join(', ')} (known: ${[...KEYS].join(', ')})`);

  let weights: ResolvedOptions['weights'] = 'float';
  if (opts.weights !== undefined && opts.weights !== 'float') {
    if (typeof opts.weights !== 'string' && (typeof opts.weights !== 'object' || opts.weights === null || typeof opts.weights.name !== 'string')) {
      throw new UserError(`${model}: weights must be 'float', a quantizer name or a { name, ... } config, got ${JSON.stringify(opts.weights)}`);
    }
    weights = weightQuantizer(opts.weights).config(); // throws a UserError for unknown names and bad options
  }

  let activations = 'float';
  if (opts.activations !== undefined && opts.activations !== 'float' && opts.activations !== 'identity') {
    if (typeof opts.activations !== 'string') throw new UserError(`${model}: activations must be a string, got ${JSON.stringify(opts.activations)}`);
    activations = activationQuantizer(opts.activations).name;
  }

  const scaling = opts.scaling ?? defaults.scaling;
  if (!(scalingModes as readonly string[]).includes(scaling)) throw new UserError(`${model}: unknown scaling "${String(scaling)}" (known: ${scalingModes.join(', ')})`);
  if (opts.scaleFan !== undefined && typeof opts.scaleFan !== 'boolean') throw new UserError(`${model}: scaleFan must be true or false`);

  return {
    numClasses: positiveInt(model, 'numClasses', opts.numClasses, defaults.numClasses),
    inChannels: positiveInt(model, 'inChannels', opts.inChannels, defaults.inChannels),
    imageSize: positiveInt(model, 'imageSize', opts.imageSize, defaults.imageSize),
    weights, activations, scaling, scaleFan: opts.scaleFan ?? false,
  };
}

export const binaryWeights = (o: ResolvedOptions): boolean => o.weights !== 'float';
export const binaryActivations = (o: ResolvedOptions): boolean => o.activations !== 'float';
