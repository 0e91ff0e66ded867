// The training run behind `ebnn train`: builds the model, data and optimizer
// from a TrainConfig, trains epoch by epoch, evaluates, logs metrics.jsonl
// (with the bit statistics of every binary layer), and checkpoints after
// every epoch and on a stop request. Everything a run depends on (weights,
// optimizer state, BN statistics, the position in the data order) is in the
// checkpoint, and the data order depends only on (seed, epoch), so a resumed
// run ends with the same weights as an uninterrupted one.
import fs from 'node:fs';
import path from 'node:path';
import { Tensor, tidy, noGrad, crossEntropy } from '../autograd/index.js';
import type { Module } from '../nn/index.js';
import { bitSnapshot, bitStats, restoreBitSnapshot, snapshotBits, setTrainingProgress, type LayerBitStats } from '../quant/index.js';
import { createModel, modelFromConfig, type ModelConfig } from '../models/index.js';
import { loadDataset, BatchLoader, head, type ImageDataset } from '../data/index.js';
import { datasetDefaults, normalizationFor } from './dataset-defaults.js';
import { kernels } from '../native/index.js';
import { manualSeed, globalRng } from '../util/prng.js';
import { NumericError, UserError } from '../util/errors.js';
import { SGD, Adam, AdamW, type Optimizer, type OptimizerState } from './optim.js';
import { cosine, multiStep, constant, linearWarmup, type Schedule } from './schedule.js';
import { saveCheckpoint, loadCheckpoint, writeFileAtomic } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import type { StateDict } from '../nn/index.js';

export const CHECKPOINT_FILE = 'checkpoint.ebck';
export const METRICS_FILE = 'metrics.jsonl';

/** What a checkpoint holds. */
export interface CheckpointState {
  format: 'equalbits-checkpoint';
  config: TrainConfig;
  model: ModelConfig;
  state: StateDict;
  optimizer: OptimizerState;
  /** Completed epochs, and optimizer steps done in the epoch after them. */
  epoch: number;
  step: number;
  /** Running totals of the interrupted epoch (zero at an epoch boundary). */
  partial: { lossSum: number; correct: number; correct5: number; images: number; seconds: number };
  /** State of the global generator (dropout draws from it). */
  rng: number[];
  /** The codes of each binary layer at the start of the epoch, which its flips are counted from (absent in older checkpoints). */
  bits?: Record<string, Int8Array>;
}

export interface EpochMetrics {
  epoch: number;
  lr: number;
  train: { loss: number; top1: number; top5: number; images: number };
  /** constant: the fraction of images whose logits were all equal (a dead network); absent in older logs. */
  test: { loss: number; top1: number; top5: number; images: number; constant?: number };
  seconds: number;
  imagesPerSecond: number;
  bits: LayerBitStats[];
}

export interface TrainHooks {
  onStart?(info: { config: TrainConfig; model: Module; resumedFrom: { epoch: number; step: number } | null; train: ImageDataset; test: ImageDataset; stepsPerEpoch: number }): void;
  onEpochStart?(epoch: number, steps: number, startStep: number): void;
  onStep?(s: { epoch: number; step: number; steps: number; loss: number; top1: number; imagesPerSecond: number; lr: number }): void;
  onEpochEnd?(m: EpochMetrics): void;
  /** Polled after every step: return true to save a checkpoint and stop (Ctrl-C). */
  shouldStop?(): boolean;
}

export interface TrainResult { completedEpochs: number; interrupted: boolean; last: EpochMetrics | null; checkpoint: string; metrics: string }

/** Model options for the registry, from the flat config. */
export function modelConfigOf(c: TrainConfig, data: ImageDataset): ModelConfig {
  const weights = c.weights === 'float' ? 'float'
    : c.weights === 'bihalf' ? { name: 'bihalf', ratio: c.ratio, group: c.group }
      : c.weights === 'halfmask' ? { name: 'halfmask', pruneRate: c.pruneRate, group: c.group }
        : { name: c.weights };
  return {
    name: c.model,
    options: { numClasses: data.classes, inChannels: data.c, imageSize: data.h, weights, activations: c.activations, scaling: c.scaling, scaleFan: c.scaleFan },
  };
}

function makeOptimizer(c: TrainConfig, model: Module): Optimizer {
  const params = model.parameters();
  if (c.optimizer === 'sgd') return new SGD(params, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay, nesterov: c.nesterov });
  if (c.optimizer === 'adam') return new Adam(params, { lr: c.lr, weightDecay: c.weightDecay });
  return new AdamW(params, { lr: c.lr, weightDecay: c.weightDecay });
}

/** The learning rate as a function of fractional epochs. */
function makeSchedule(c: TrainConfig): Schedule {
  const main = c.schedule === 'cosine' ? cosine(Math.max(c.epochs - c.warmupEpochs, 1e-9))
    : c.schedule === 'multistep' ? multiStep(c.milestones.map((m) => m - c.warmupEpochs), c.gamma) : constant();
  return c.warmupEpochs > 0 ? linearWarmup(main, c.warmupEpochs) : main;
}

/**
 * Top-1 and top-5 hits of logits [n, classes]. The label's rank counts the
 * classes with a higher logit and those with an equal one at a lower index,
 * as a stable sort (and argmax, which picks the first maximum) orders them:
 * a network whose logits are all equal (a dead ReLU net, say) then scores
 * the frequency of class 0, not 100%. A NaN logit for the label is a miss.
 * constant counts the images whose logits are all equal.
 */
export function topk(logits: Tensor, labels: Int32Array): { top1: number; top5: number; constant: number } {
  const [n, k] = logits.shape;
  let top1 = 0, top5 = 0, constant = 0;
  for (let i = 0; i < n; i++) {
    const row = logits.data.subarray(i * k, (i + 1) * k);
    if (row.every((v) => v === row[0])) constant++;
    const label = labels[i], target = row[label];
    if (Number.isNaN(target)) continue;
    let rank = 0;
    for (let j = 0; j < k; j++) if (row[j] > target || (row[j] === target && j < label)) rank++;
    if (rank === 0) top1++;
    if (rank < 5) top5++;
  }
  return { top1, top5, constant };
}

/** Loss, top-1 and top-5 of a model on a dataset, in eval mode. */
export async function evaluateModel(model: Module, loader: BatchLoader, ds: ImageDataset, onBatch?: (done: number) => void): Promise<EpochMetrics['test']> {
  model.eval();
  let lossSum = 0, top1 = 0, top5 = 0, constant = 0, images = 0;
  for await (const b of loader.epoch(0)) {
    // noGrad and tidy are synchronous scopes: keep the awaits outside them.
    noGrad(() => tidy(() => {
      const logits = model.forward(new Tensor(b.x, [b.size, ds.c, ds.h, ds.w]));
      lossSum += crossEntropy(logits, b.y).item() * b.size;
      const t = topk(logits, b.y);
      top1 += t.top1; top5 += t.top5; constant += t.constant; images += b.size;
    }));
    onBatch?.(images);
  }
  return { loss: lossSum / images, top1: top1 / images, top5: top5 / images, images, constant: constant / images };
}

export function loadersFor(c: TrainConfig, train: ImageDataset, test: ImageDataset): [BatchLoader, BatchLoader] {
  const d = datasetDefaults(c.dataset);
  const normalize = normalizationFor(c.dataset, train.c);
  return [
    new BatchLoader(train, { batchSize: c.batchSize, shuffle: true, augment: c.augment ? d.augment : {}, normalize, seed: c.seed, dropLast: true, workers: c.workers }),
    new BatchLoader(test, { batchSize: c.evalBatchSize, shuffle: false, augment: {}, normalize, seed: c.seed, dropLast: false, workers: c.workers }),
  ];
}

/** Loads a checkpoint and checks it is one of ours. */
export function readCheckpoint(file: string): CheckpointState {
  const ck = loadCheckpoint<CheckpointState>(file);
  if (!ck || ck.format !== 'equalbits-checkpoint') throw new UserError(`${file} is not an equalbits training checkpoint`);
  return ck;
}

/** Rebuilds the model of a checkpoint with its weights. */
export function modelFromCheckpoint(ck: CheckpointState): Module {
  const model = modelFromConfig(ck.model);
  model.loadStateDict(ck.state);
  return model;
}

/**
 * Trains according to c, resuming from c.out/checkpoint.ebck when resume is
 * true and the file exists. Throws NumericError on NaN/Inf (the last good
 * checkpoint stays on disk) and UserError on bad input.
 */
export async function train(c: TrainConfig, hooks: TrainHooks = {}, opts: { resume?: boolean; overwrite?: boolean } = {}): Promise<TrainResult> {
  kernels.setNumThreads(c.threads);
  fs.mkdirSync(c.out, { recursive: true });
  const ckFile = path.join(c.out, CHECKPOINT_FILE), metricsFile = path.join(c.out, METRICS_FILE);
  const resumeState = opts.resume && fs.existsSync(ckFile) ? readCheckpoint(ckFile) : null;
  if (opts.resume && !resumeState) throw new UserError(`--resume: no checkpoint at ${ckFile}`);
  if (resumeState && resumeState.config.model !== c.model) throw new UserError(`--resume: the checkpoint in ${c.out} is for model ${resumeState.config.model}, not ${c.model}`);
  if (!resumeState) {
    if (fs.existsSync(ckFile) && !opts.overwrite) throw new UserError(`${c.out} already holds a run; pass --resume to continue it, --overwrite to replace it, or choose another --out`);
    fs.rmSync(ckFile, { force: true });
    fs.rmSync(metricsFile, { force: true });
  }

  const dataOpts = { dir: c.dataDir, seed: c.seed };
  const trainSet = head(loadDataset(c.dataset, 'train', dataOpts), c.trainLimit);
  const testSet = head(loadDataset(c.dataset, 'test', dataOpts), c.testLimit);
  if (trainSet.n < c.batchSize) throw new UserError(`batch size ${c.batchSize} is larger than the ${trainSet.n} training images`);

  manualSeed(c.seed); // model initialisation draws from the global generator
  const modelCfg = resumeState?.model ?? modelConfigOf(c, trainSet);
  const model = createModel(modelCfg.name, modelCfg.options);
  const optimizer = makeOptimizer(c, model);
  const schedule = makeSchedule(c);
  let epoch = 0, startStep = 0;
  let partial = { lossSum: 0, correct: 0, correct5: 0, images: 0, seconds: 0 };
  if (resumeState) {
    model.loadStateDict(resumeState.state);
    optimizer.loadStateDict(resumeState.optimizer);
    ({ epoch, step: startStep, partial } = resumeState);
    if (Array.isArray(resumeState.rng) && resumeState.rng.length === 5) globalRng.setState(resumeState.rng);
  }
  writeFileAtomic(path.join(c.out, 'config.json'), Buffer.from(JSON.stringify({ ...c, modelConfig: modelCfg }, null, 2) + '\n'));

  const [trainLoader, testLoader] = loadersFor(c, trainSet, testSet);
  const steps = Math.floor(trainSet.n / c.batchSize);
  hooks.onStart?.({ config: c, model, resumedFrom: resumeState ? { epoch, step: startStep } : null, train: trainSet, test: testSet, stepsPerEpoch: steps });

  // A checkpoint at every epoch end, on a stop request, and every
  // c.checkpointMinutes within an epoch, so that a kill loses at most that.
  let lastSave = performance.now();
  const save = (e: number, s: number) => {
    saveCheckpoint(ckFile, {
      format: 'equalbits-checkpoint', config: c, model: modelCfg, state: model.stateDict(), optimizer: optimizer.stateDict(), epoch: e, step: s, partial,
      rng: globalRng.getState(), bits: bitSnapshot(model),
    } satisfies CheckpointState);
    lastSave = performance.now();
  };

  let last: EpochMetrics | null = null;
  for (; epoch < c.epochs; epoch++) {
    model.train();
    // Flips are counted per epoch from this snapshot (an epoch resumed mid-way: from its saved start).
    if (startStep > 0 && resumeState?.bits) restoreBitSnapshot(model, resumeState.bits);
    else snapshotBits(model);
    setTrainingProgress(model, epoch / c.epochs);
    hooks.onEpochStart?.(epoch, steps, startStep);
    const t0 = performance.now() - partial.seconds * 1000;
    let step = 0;
    for await (const b of trainLoader.epoch(epoch)) {
      if (step++ < startStep) continue; // resuming mid-epoch: these batches were already trained on
      optimizer.lr = schedule((epoch * steps + step - 1) / steps, c.lr);
      const [loss, right, right5] = tidy(() => {
        optimizer.zeroGrad();
        const x = new Tensor(b.x, [b.size, trainSet.c, trainSet.h, trainSet.w]);
        const logits = model.forward(x);
        const l = crossEntropy(logits, b.y);
        l.backward();
        const t = topk(logits, b.y);
        return [l.item(), t.top1, t.top5];
      });
      if (!Number.isFinite(loss)) {
        const kept = fs.existsSync(ckFile) ? `the last good checkpoint is ${ckFile}` : 'no checkpoint was written yet';
        throw new NumericError(`loss became ${loss} at epoch ${epoch + 1}, step ${step}; training stopped (${kept}). Try a lower learning rate.`);
      }
      optimizer.step();
      partial.lossSum += loss * b.size; partial.correct += right; partial.correct5 += right5; partial.images += b.size;
      const seconds = (performance.now() - t0) / 1000;
      hooks.onStep?.({ epoch, step, steps, loss: partial.lossSum / partial.images, top1: partial.correct / partial.images, imagesPerSecond: partial.images / Math.max(seconds, 1e-9), lr: optimizer.lr });
      // Give the event loop a turn: with batches always ready, the loop would
      // otherwise run on microtasks alone and a Ctrl-C or kill would only be
      // seen at the end of the epoch.
      if (hooks.shouldStop) await new Promise<void>((resolve) => setImmediate(resolve));
      if (hooks.shouldStop?.() && step < steps) {
        partial.seconds = seconds;
        save(epoch, step);
        return { completedEpochs: epoch, interrupted: true, last, checkpoint: ckFile, metrics: metricsFile };
      }
      if (c.checkpointMinutes > 0 && step < steps && performance.now() - lastSave >= c.checkpointMinutes * 60_000) {
        partial.seconds = seconds;
        save(epoch, step);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const test = await evaluateModel(model, testLoader, testSet);
    last = {
      epoch: epoch + 1, lr: optimizer.lr,
      train: { loss: partial.lossSum / partial.images, top1: partial.correct / partial.images, top5: partial.correct5 / partial.images, images: partial.images },
      test, seconds, imagesPerSecond: partial.images / seconds,
      bits: bitStats(model),
    };
    fs.appendFileSync(metricsFile, JSON.stringify(last) + '\n');
    partial = { lossSum: 0, correct: 0, correct5: 0, images: 0, seconds: 0 };
    startStep = 0;
    save(epoch + 1, 0);
    hooks.onEpochEnd?.(last);
    if (hooks.shouldStop?.()) return { completedEpochs: epoch + 1, interrupted: epoch + 1 < c.epochs, last, checkpoint: ckFile, metrics: metricsFile };
  }
  return { completedEpochs: c.epochs, interrupted: false, last, checkpoint: ckFile, metrics: metricsFile };
}
