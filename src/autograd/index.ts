// The differentiable tensor API.
export { Tensor, tidy, keep, noGrad, isGradEnabled, record, accumulateGrad, passGrad, needsGrad, shapeSize, type Node } from './tensor.js';
export { floatPool, intPool } from './pool.js';
export { linear, matmul } from './ops/linear.js';
export { conv2d, type Conv2dOptions, type InputMap } from './ops/conv.js';
export { batchNorm, type BatchNormOptions } from './ops/norm.js';
export { maxPool2d, avgPool2d, globalAvgPool, type PoolOptions } from './ops/pool.js';
export { relu, prelu, hardtanh, sigmoid } from './ops/activation.js';
export { add, mul, scale, sum, mean } from './ops/elementwise.js';
export { crossEntropy } from './ops/loss.js';
export { dropout } from './ops/dropout.js';
export { gradOrScratch, type Pair } from './ops/common.js';
export { traced, traceOp, type TraceEvent } from './trace.js';
