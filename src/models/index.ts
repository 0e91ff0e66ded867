// The model zoo.
export { createModel, modelNames, modelSpec, modelConfig, modelFromConfig, type ModelSpec, type ModelConfig } from './registry.js';
export { describeModel, describeModule, listModels, type ModelDescription } from './describe.js';
export { resolveOptions, type ModelOptions, type ResolvedOptions, type ModelDefaults } from './options.js';
export { LayerFactory, ActQuantConv2d, ActQuantLinear, subsamplePadChannels, sliceFlat } from './layers.js';
export { ShallowConvNet } from './shallow.js';
export { ResNet20 } from './resnet20.js';
export { VggSmall } from './vgg-small.js';
export { EqualBitsResNet } from './resnet-eb.js';
export { LeNet } from './lenet.js';
export { ToyNet, TOY_HIDDEN } from './toy.js';
