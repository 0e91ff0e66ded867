export { Optimizer, SGD, Adam, AdamW, type SGDOptions, type AdamOptions, type OptimizerState } from './optim.js';
export { LRScheduler, cosine, multiStep, linearWarmup, constant, type Schedule } from './schedule.js';
