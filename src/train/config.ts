// The training configuration: one flat, JSON-serialisable object, validated
// with zod so that a typo in a config file or a flag is a one-line error.
// Precedence: built-in defaults < recipe < config file < command-line flags.
import { z } from 'zod';
import { UserError } from '../util/errors.js';

const positiveInt = z.number().int().positive();

export const TrainConfigSchema = z.object({
  model: z.string().min(1),
  /** 'float', or a weight quantizer name: sign | bihalf | halfmask | irnet. */
  weights: z.string().min(1),
  /** 'float', or an activation quantizer name: ste_sign | approx_sign | ede. */
  activations: z.string().min(1),
  ratio: z.number().gt(0).lt(1),
  pruneRate: z.number().min(0).max(1),
  group: z.enum(['filter', 'layer']),
  scaling: z.enum(['fixed', 'xnor', 'none']),
  scaleFan: z.boolean(),
  dataset: z.enum(['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'synthetic']),
  dataDir: z.string().optional(),
  /** Train on the first N training images only (quick runs, tests). */
  trainLimit: positiveInt.optional(),
  /** Evaluate on the first N test images only. */
  testLimit: positiveInt.optional(),
  augment: z.boolean(),
  epochs: positiveInt,
  batchSize: positiveInt,
  evalBatchSize: positiveInt,
  optimizer: z.enum(['sgd', 'adam', 'adamw']),
  lr: z.number().positive(),
  momentum: z.number().min(0).max(1),
  nesterov: z.boolean(),
  weightDecay: z.number().min(0),
  schedule: z.enum(['cosine', 'multistep', 'constant']),
  /** Epochs at which multistep multiplies the learning rate by gamma. */
  milestones: z.array(z.number().nonnegative()),
  gamma: z.number().positive(),
  warmupEpochs: z.number().min(0),
  seed: z.number().int().min(0),
  threads: positiveInt,
  /** Data-loading worker threads (0: prepare batches on the main thread). */
  workers: z.number().int().min(0).max(4),
  /** Minutes between checkpoints within an epoch (0: at epoch ends only); every epoch end saves one too. */
  checkpointMinutes: z.number().min(0),
  out: z.string().min(1),
}).strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

export const defaultConfig: TrainConfig = {
  model: 'lenet', weights: 'bihalf', activations: 'float', ratio: 0.5, pruneRate: 0.5, group: 'filter',
  scaling: 'fixed', scaleFan: false, dataset: 'fashion-mnist', augment: false,
  epochs: 1, batchSize: 128, evalBatchSize: 500, optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false,
  weightDecay: 1e-4, schedule: 'cosine', milestones: [], gamma: 0.1, warmupEpochs: 0, seed: 0, threads: 2, workers: 1,
  checkpointMinutes: 5, out: 'runs/latest',
};

/**
 * The paper's recipes (method.md), so a user need not copy numbers. Models and
 * datasets can still be overridden by flags.
 */
export const recipes: Record<string, { description: string; config: Partial<TrainConfig> }> = {
  'shallow-cifar10': {
    description: 'Conv2-8 on CIFAR-10: 100 epochs, SGD 0.9, lr 0.1 cosine, wd 1e-4, batch 128 (Equal Bits, shallow models)',
    config: { model: 'conv2', dataset: 'cifar10', augment: true, epochs: 100, batchSize: 128, optimizer: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'cosine', weights: 'bihalf', activations: 'float' },
  },
  'resnet20-irnet': {
    description: 'ResNet-20 1W/1A on CIFAR-10 with IR-Net\'s settings: 400 epochs, SGD 0.9, lr 0.1 cosine, wd 1e-4, batch 128',
    config: { model: 'resnet20', dataset: 'cifar10', augment: true, epochs: 400, batchSize: 128, optimizer: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'cosine', weights: 'bihalf', activations: 'ste_sign' },
  },
  'resnet20-adam': {
    description: 'ResNet-20 1W/1A on CIFAR-10, IR-Net\'s model trained with Adam: 100 epochs, lr 0.01 cosine, no weight decay, batch 128 (bi-half latents take larger steps than with SGD)',
    config: { model: 'resnet20', dataset: 'cifar10', augment: true, epochs: 100, batchSize: 128, optimizer: 'adam', lr: 0.01, weightDecay: 0, schedule: 'cosine', weights: 'bihalf', activations: 'ste_sign' },
  },
  'cifar100-350': {
    description: 'CIFAR-100: 350 epochs, SGD 0.9, lr 0.1 divided by 10 at 150/250/320, wd 5e-4, batch 128',
    config: { model: 'resnet18', dataset: 'cifar100', augment: true, epochs: 350, batchSize: 128, optimizer: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, schedule: 'multistep', milestones: [150, 250, 320], gamma: 0.1, weights: 'bihalf', activations: 'ste_sign' },
  },
  'imagenet-resnet18': {
    description: 'ResNet-18 schedule of the ImageNet runs: 100 epochs, SGD 0.9, lr 0.1 divided by 10 at 30/60/90, wd 1e-4, batch 256 (ImageNet itself is not bundled; pick a dataset)',
    config: { model: 'resnet18', epochs: 100, batchSize: 256, optimizer: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'multistep', milestones: [30, 60, 90], gamma: 0.1, weights: 'bihalf', activations: 'ste_sign' },
  },
};

/** Formats zod issues as one line: "epochs: expected a positive integer; lr: ...". */
function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
}

/** Merges layers (later wins), validates, and returns a complete config. */
export function resolveConfig(...layers: Partial<Record<string, unknown>>[]): TrainConfig {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k] = v;
  }
  const parsed = TrainConfigSchema.safeParse(merged);
  if (!parsed.success) throw new UserError(`invalid training config: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function recipe(name: string): Partial<TrainConfig> {
  const r = recipes[name];
  if (!r) throw new UserError(`unknown recipe "${name}" (known: ${Object.keys(recipes).join(', ')})`);
  return r.config;
}
