// The plain TypeScript kernels: slow, written to read like the math, and used
// both as the test oracle for the native addon and as the fallback engine where
// the addon cannot load (browsers). So: no Node-only imports anywhere here.
import type { Kernels } from '../api.js';
import { sgemm } from './gemm.js';
import { conv2dForward, conv2dBackwardData, conv2dBackwardWeight } from './conv.js';
import { batchNormForwardTrain, batchNormForwardEval, batchNormBackward } from './batchnorm.js';
import {
  maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward,
  globalAvgPoolForward, globalAvgPoolBackward,
} from './pool.js';
import {
  add, mul, scale, axpy, channelScale, biasAdd, biasGrad, relu, reluBackward, prelu, preluBackward,
  hardtanh, hardtanhBackward,
} from './elementwise.js';
import { softmaxCrossEntropy } from './loss.js';
import { xnorConv2dForward } from './xnor.js';
import { sgdStep, adamStep } from './optim.js';
import { rankCodes, signCodes, balancedCodes, balancedScales, balancedBackward, codesToWeights, signForward, signBackward } from './quant.js';

export const reference: Kernels = {
  // Single-threaded by design; the thread count is accepted and ignored.
  setNumThreads(): void {},
  getNumThreads: () => 1,
  blasCore: () => 'reference',
  sgemm,
  conv2dForward, conv2dBackwardData, conv2dBackwardWeight, xnorConv2dForward,
  batchNormForwardTrain, batchNormForwardEval, batchNormBackward,
  maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward,
  globalAvgPoolForward, globalAvgPoolBackward,
  add, mul, scale, axpy, channelScale, biasAdd, biasGrad, relu, reluBackward, prelu, preluBackward,
  hardtanh, hardtanhBackward,
  softmaxCrossEntropy,
  rankCodes, signCodes, balancedCodes, balancedScales, balancedBackward, codesToWeights, signForward, signBackward,
  sgdStep, adamStep,
};
