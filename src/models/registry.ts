// The model zoo: models by name, their specs, and configs as plain JSON
// ({ name, options }) so that a checkpoint can rebuild the exact model.
import type { Module } from '../nn/index.js';
import { UserError } from '../util/errors.js';
import { resolveOptions, binaryActivations, type ModelOptions, type ModelDefaults, type ResolvedOptions } from './options.js';
import { ShallowConvNet } from './shallow.js';
import { ResNet20 } from './resnet20.js';
import { VggSmall } from './vgg-small.js';
import { EqualBitsResNet } from './resnet-eb.js';
import { LeNet } from './lenet.js';
import { ToyNet } from './toy.js';

export interface ModelSpec {
  name: string;
  description: string;
  /** One sample's shape with the default options: [c, h, w] for images, [features] for the toy. */
  inputShape: number[];
  defaultClasses: number;
  /** Which layers become binary when weights is a quantizer. */
  binaryLayers: string;
  /** Whether activations may be binary (1W/1A). */
  binaryActivations: boolean;
  defaults: ModelDefaults;
}

export interface ModelConfig { name: string; options: ResolvedOptions }

interface Entry extends Omit<ModelSpec, 'name' | 'inputShape' | 'defaultClasses'> {
  build: (o: ResolvedOptions) => Module;
}

const CIFAR: ModelDefaults = { numClasses: 10, inChannels: 3, imageSize: 32, scaling: 'fixed' };

const shallow = (depth: 2 | 4 | 6 | 8): Entry => ({
  description: `Conv${depth}: ${depth / 2} pair(s) of 3x3 convs (64..${[64, 128, 256, 512][depth / 2 - 1]}) with 2x2 max pools, FC 256-256-classes, ReLU, no BN (hidden-networks / lottery-ticket shallow model)`,
  binaryLayers: 'every conv and linear layer',
  binaryActivations: false,
  defaults: CIFAR,
  build: (o) => new ShallowConvNet(depth, o),
});

const entries = new Map<string, Entry>([
  ['conv2', shallow(2)],
  ['conv4', shallow(4)],
  ['conv6', shallow(6)],
  ['conv8', shallow(8)],
  ['resnet20', {
    description: 'ResNet-20 for CIFAR as in IR-Net: 16/32/64 channels, 3x3 basic blocks, BN, option-A shortcuts',
    binaryLayers: 'the 18 block convs (stem conv and classifier stay float)',
    binaryActivations: true,
    defaults: CIFAR,
    build: (o) => new ResNet20(o),
  }],
  ['vgg-small', {
    description: 'VGG-Small for CIFAR (LQ-Net / IR-Net): convs 128-128-256-256-512-512, BN, one linear classifier',
    binaryLayers: 'conv1..conv5 (conv0 and the classifier stay float)',
    binaryActivations: true,
    defaults: CIFAR,
    build: (o) => new VggSmall(o),
  }],
  ['resnet18', {
    description: 'ResNet-18 for CIFAR as in the Equal Bits code: Bi-Real blocks, PReLU before BN, one PReLU per block',
    binaryLayers: 'the block convs (stem, 1x1 shortcut convs and classifier stay float)',
    binaryActivations: true,
    defaults: CIFAR,
    build: (o) => new EqualBitsResNet(o, [2, 2, 2, 2]),
  }],
  ['resnet34', {
    description: 'ResNet-34 for CIFAR as in the Equal Bits code: Bi-Real blocks, PReLU before BN, one PReLU per block',
    binaryLayers: 'the block convs (stem, 1x1 shortcut convs and classifier stay float)',
    binaryActivations: true,
    defaults: CIFAR,
    build: (o) => new EqualBitsResNet(o, [3, 4, 6, 3]),
  }],
  ['lenet', {
    description: 'LeNet-style CNN for 28x28 grey images: conv 32, conv 64, FC 256, BN, 2x2 max pools',
    binaryLayers: 'conv2 and fc1 (conv1 and the classifier fc2 stay float)',
    binaryActivations: true,
    defaults: { numClasses: 10, inChannels: 1, imageSize: 28, scaling: 'fixed' },
    build: (o) => new LeNet(o),
  }],
  ['toy', {
    description: 'The 2-3-1 sigmoid network of the paper\'s toy study (12 weights: W1, hidden biases, W2; no output bias)',
    binaryLayers: 'all 12 weights, as one group',
    binaryActivations: false,
    // Unscaled codes: the toy study evaluates nets with weights exactly +-1.
    defaults: { numClasses: 1, inChannels: 2, imageSize: 1, scaling: 'none' },
    build: (o) => new ToyNet(o),
  }],
]);

/** The names createModel accepts. */
export function modelNames(): string[] {
  return [...entries.keys()];
}

function entry(name: string): [string, Entry] {
  const key = typeof name === 'string' ? name.toLowerCase() : '';
  const e = entries.get(key);
  if (!e) throw new UserError(`unknown model "${String(name)}" (known: ${modelNames().join(', ')})`);
  return [key, e];
}

export function modelSpec(name: string): ModelSpec {
  const [key, e] = entry(name);
  const { build: _build, ...rest } = e;
  const d = e.defaults;
  return {
    name: key, ...rest, defaults: { ...d }, defaultClasses: d.numClasses,
    inputShape: key === 'toy' ? [d.inChannels] : [d.inChannels, d.imageSize, d.imageSize],
  };
}

const configs = new WeakMap<Module, ModelConfig>();

/**
 * Builds a model. weights 'float' gives full precision; a quantizer (name or
 * config, e.g. { name: 'bihalf' }) gives binary weights on the model's binary
 * layers (1W/32A); activations 'ste_sign' / 'approx_sign' binarize those
 * layers' inputs as well (1W/1A, where the model supports it).
 */
export function createModel(name: string, opts: ModelOptions = {}): Module {
  const [key, e] = entry(name);
  const o = resolveOptions(key, opts, e.defaults);
  if (binaryActivations(o) && !e.binaryActivations) {
    throw new UserError(`${key}: binary activations are not supported (${key === 'toy' ? 'its units are sigmoids' : 'sign() of a ReLU output is +1 everywhere'}); use activations 'float'`);
  }
  const model = e.build(o);
  configs.set(model, { name: key, options: o });
  return model;
}

/** The JSON-serialisable config of a model made by createModel. */
export function modelConfig(model: Module): ModelConfig {
  const c = configs.get(model);
  if (!c) throw new UserError('modelConfig: this module was not built by createModel');
  return structuredClone(c);
}

/** Rebuilds a model from modelConfig()'s output (e.g. read back from a checkpoint's JSON). */
export function modelFromConfig(cfg: unknown): Module {
  if (!cfg || typeof cfg !== 'object' || typeof (cfg as ModelConfig).name !== 'string') {
    throw new UserError(`model config must be { name, options }, got ${JSON.stringify(cfg)}`);
  }
  const { name, options } = cfg as { name: string; options?: unknown };
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new UserError(`model config for "${name}": options must be an object`);
  }
  return createModel(name, (options ?? {}) as ModelOptions);
}
