export { Optimizer, SGD, Adam, AdamW, type SGDOptions, type AdamOptions, type OptimizerState } from './optim.js';
export { LRScheduler, cosine, multiStep, linearWarmup, constant, type Schedule } from './schedule.js';
export { TrainConfigSchema, defaultConfig, recipes, recipe, resolveConfig, type TrainConfig } from './config.js';
export {
  train, evaluateModel, readCheckpoint, modelFromCheckpoint, topk, CHECKPOINT_FILE, METRICS_FILE,
  type CheckpointState, type EpochMetrics, type TrainHooks, type TrainResult,
} from './trainer.js';
export { saveCheckpoint, loadCheckpoint, encodeCheckpoint, decodeCheckpoint, writeFileAtomic } from './checkpoint.js';
