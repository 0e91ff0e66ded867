// The paper's studies as sweeps (method.md, "Claims to reproduce"), with the
// budgets of issue 6 as defaults. Runs are ordered seed by seed, so that a
// study cut short still has every setting at least once.
import { recipe, type TrainConfig } from '../train/config.js';
import type { SweepRun, SweepSpec } from './sweep.js';
import { UserError } from '../util/errors.js';

export interface StudyOptions {
  dataset?: 'fashion-mnist' | 'cifar10' | 'synthetic';
  dataDir?: string;
  epochs?: number;
  seeds?: number;
  /** Extra config for every run (limits for quick checks, thread count). */
  extra?: Partial<TrainConfig>;
}

const fmt = (v: number) => String(+v.toFixed(3));

/** Models the CIFAR-10 studies take (ratio's --model, compare's --models). */
export const STUDY_MODELS = ['conv2', 'conv4', 'conv6', 'conv8', 'resnet20', 'resnet20-1w1a'];

/** The setting that defines each dataset's version of a study. */
function datasetBase(o: StudyOptions, cifarModel: string): Partial<TrainConfig> {
  if ((o.dataset ?? 'cifar10') === 'fashion-mnist') {
    // The demo's small binary-weight CNN (LeNet, 1W/32A) and optimiser.
    return { model: 'lenet', dataset: 'fashion-mnist', activations: 'float', optimizer: 'adam', lr: 1e-3, weightDecay: 0, schedule: 'cosine', batchSize: 128 };
  }
  // The paper's shallow-model recipe, cosine over the shortened schedule.
  return { ...recipe('shallow-cifar10'), model: cifarModel, dataset: o.dataset ?? 'cifar10' };
}

function seeded(seeds: number, make: (seed: number) => SweepRun[]): SweepRun[] {
  return Array.from({ length: seeds }, (_, s) => make(s)).flat();
}

/**
 * Accuracy against the enforced bit ratio p (bihalf with ratio p), plus sign
 * on Fashion-MNIST. On CIFAR-10 the model is conv2 unless o.model names
 * another: conv2-conv8 have no batch norm, so p away from 1/2 also shifts
 * every pre-activation's mean (docs/results.md); ResNet-20 (1W/32A or
 * resnet20-1w1a, the compare study's Adam recipe) normalises that away.
 */
export function ratioStudy(o: StudyOptions & { model?: string } = {}): SweepSpec {
  const fm = (o.dataset ?? 'cifar10') === 'fashion-mnist';
  if (fm && o.model !== undefined) throw new UserError('ratio: --model applies to CIFAR-10; Fashion-MNIST\'s study is LeNet\'s');
  const model = o.model ?? 'conv2';
  if (!fm && !STUDY_MODELS.includes(model)) throw new UserError(`ratio: --model must be one of ${STUDY_MODELS.join(', ')}, got "${model}"`);
  const ratios = fm ? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] : [0.2, 0.35, 0.5, 0.65, 0.8];
  const epochs = o.epochs ?? (fm ? 5 : 10), seeds = o.seeds ?? (fm ? 3 : 2);
  const modelCfg = fm ? {} : model.startsWith('resnet20') ? resnet20Variant(model) : { model };
  const base = { ...datasetBase(o, 'conv2'), ...modelCfg, dataDir: o.dataDir, epochs, ...o.extra };
  return {
    study: 'ratio', title: `Bit-ratio study: ${base.model} on ${base.dataset}, ${epochs} epochs, ${seeds} seeds`, xLabel: 'p = fraction of +1 weights',
    base,
    // sign (no enforced ratio) as the reference point where the budget allows
    // it; on CIFAR-10 the compare study has it.
    runs: seeded(seeds, (seed) => [
      ...ratios.map((p) => ({ name: `p${fmt(p)}-s${seed}`, label: 'bihalf(p)', x: p, seed, config: { weights: 'bihalf', ratio: p } })),
      ...(fm ? [{ name: `sign-s${seed}`, label: 'sign', seed, config: { weights: 'sign' } }] : []),
    ]),
  };
}

/** sign vs bihalf vs IR-Net's balanced sign, per model: conv2-conv8 (1W/32A) unless o.models names others. */
export function compareStudy(o: StudyOptions & { models?: string[] } = {}): SweepSpec {
  const models = o.models ?? ['conv2', 'conv4', 'conv6', 'conv8'];
  // Checked here, not at the first run: a typo would otherwise write sweep.json and
  // train the models before it.
  const unknown = models.filter((m) => !STUDY_MODELS.includes(m));
  if (unknown.length) throw new UserError(`compare: --models takes ${STUDY_MODELS.join(', ')}; got "${unknown.join(', ')}"`);
  if (models.length === 0) throw new UserError('compare: --models names no model');
  // The budgets: conv6/conv8 1 seed x 10 epochs, the others 3 seeds x 15.
  const deep = (m: string) => m === 'conv6' || m === 'conv8';
  const seedsOf = (m: string) => o.seeds ?? (deep(m) ? 1 : 3);
  const runs: SweepRun[] = [];
  for (let seed = 0; seed < Math.max(...models.map(seedsOf)); seed++) {
    for (const m of models.filter((mm) => seed < seedsOf(mm))) {
      const epochs = o.epochs ?? (deep(m) ? 10 : 15);
      const cfg = m.startsWith('resnet20') ? resnet20Variant(m) : { model: m };
      for (const q of ['sign', 'bihalf', 'irnet']) {
        runs.push({ name: `${m}-${q}-s${seed}`, label: `${m} ${q}`, seed, config: { ...cfg, weights: q, epochs } });
      }
    }
  }
  return {
    study: 'compare', title: `sign vs bihalf vs IR-Net on CIFAR-10 (${models.join(', ')})`,
    base: { ...datasetBase(o, 'conv2'), dataDir: o.dataDir, ...o.extra },
    runs,
  };
}

/**
 * resnet20 (1W/32A) or resnet20-1w1a as a compare entry, trained with the
 * resnet20-adam recipe (shortened). Adam, not IR-Net's SGD: under SGD the
 * straight-through latents of sign and bi-half take steps about 8x smaller than
 * IR-Net's standardised ones (docs/results.md, ResNet-20 diagnostics), which
 * would compare step sizes rather than quantizers; Adam's per-weight scaling
 * removes that factor for all three.
 */
function resnet20Variant(m: string): Partial<TrainConfig> {
  return { ...recipe('resnet20-adam'), model: 'resnet20', activations: m === 'resnet20-1w1a' ? 'ste_sign' : 'float' };
}

/**
 * Binary weight pruning: halfmask at several prune rates on Conv2. With
 * scaleFan each layer's fixed scale counts only its unpruned weights
 * (method.md's scale_fan), which keeps the activations' scale as k grows;
 * k = 0 is then the same run as without it, so it is left out.
 */
export function pruneStudy(o: StudyOptions & { scaleFan?: boolean } = {}): SweepSpec {
  const rates = o.scaleFan ? [0.3, 0.5, 0.7, 0.9] : [0, 0.3, 0.5, 0.7, 0.9];
  const epochs = o.epochs ?? 10, seeds = o.seeds ?? 1;
  return {
    study: 'prune', title: `halfmask pruning${o.scaleFan ? ' (scale-fan)' : ''}: conv2 on CIFAR-10, ${epochs} epochs`, xLabel: 'prune rate k',
    base: { ...datasetBase(o, 'conv2'), dataDir: o.dataDir, epochs, weights: 'halfmask', ...(o.scaleFan ? { scaleFan: true } : {}), ...o.extra },
    runs: seeded(seeds, (seed) => rates.map((k) => ({ name: `k${fmt(k)}-s${seed}`, label: 'halfmask(k)', x: k, seed, config: { pruneRate: k } }))),
  };
}

export const studies = { ratio: ratioStudy, compare: compareStudy, prune: pruneStudy };
