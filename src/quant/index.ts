// Quantizers, binary layers and bit statistics: the Equal Bits method.
export {
  SignQuantizer, BiHalfQuantizer, HalfMaskQuantizer, IrNetQuantizer, weightQuantizer, registerWeightQuantizer,
  weightQuantizerNames, floorCount, type WeightQuantizer, type QuantizerConfig, type Grouping,
} from './weight-quantizers.js';
export { SteSign, ApproxSign, EdeSign, Identity, activationQuantizer, registerActivationQuantizer, binarySign, type ActivationQuantizer } from './activation-quantizers.js';
export { BinaryWeight, scalingModes, type ScalingMode, type ScalingOptions } from './binary-weight.js';
export { BinaryConv2d, BinaryLinear, isBinaryLayer, inputQuantizers, setTrainingProgress, type BinaryLayerOptions } from './layers.js';
export { bitSnapshot, bitStats, layerBitStats, overallPlusFraction, restoreBitSnapshot, snapshotBits, entropyBits, type LayerBitStats, type GroupBitStats } from './stats.js';
