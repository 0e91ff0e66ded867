// Learning-rate schedules as pure functions of the step count t (epochs or
// iterations, as the caller steps them), wrapped by a scheduler that writes
// the optimizer's lr. Pure functions make resuming trivial: only t is saved.
import type { Optimizer } from './optim.js';
import { UserError } from '../util/errors.js';

/** Learning rate at step t for a base learning rate. */
export type Schedule = (t: number, baseLr: number) => number;

export const constant = (): Schedule => (_t, base) => base;

/** PyTorch's CosineAnnealingLR: eta_min + (base - eta_min) (1 + cos(pi t / tMax)) / 2, held at eta_min after tMax. */
export function cosine(tMax: number, etaMin = 0): Schedule {
  if (!(tMax > 0)) throw new UserError(`cosine schedule: tMax must be > 0, got ${tMax}`);
  return (t, base) => etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * Math.min(t, tMax) / tMax)) / 2;
}

/** PyTorch's MultiStepLR: multiply by gamma at each milestone passed. */
export function multiStep(milestones: number[], gamma = 0.1): Schedule {
  const sorted = [...milestones].sort((a, b) => a - b);
  return (t, base) => base * gamma ** sorted.filter((m) => t >= m).length;
}

/**
 * Linear warm-up over the first `steps` steps, from startFactor * lr up to the
 * inner schedule's value; after that the inner schedule runs, shifted so it
 * starts where the warm-up ends.
 */
export function linearWarmup(inner: Schedule, steps: number, startFactor = 0.1): Schedule {
  if (!(steps >= 0)) throw new UserError(`warm-up steps must be >= 0, got ${steps}`);
  return (t, base) => {
    if (t >= steps) return inner(t - steps, base);
    return inner(0, base) * (startFactor + (1 - startFactor) * (t / steps));
  };
}

export class LRScheduler {
  t = 0;
  baseLr: number;
  constructor(private readonly optimizer: Optimizer, private readonly schedule: Schedule) {
    this.baseLr = optimizer.lr;
    optimizer.lr = schedule(0, this.baseLr);
  }
  /** Advances one step and sets the optimizer's learning rate. */
  step(): number {
    this.t++;
    this.optimizer.lr = this.schedule(this.t, this.baseLr);
    return this.optimizer.lr;
  }
  stateDict(): { t: number; baseLr: number } {
    return { t: this.t, baseLr: this.baseLr };
  }
  loadStateDict(s: { t: number; baseLr: number }): void {
    this.t = s.t;
    this.baseLr = s.baseLr;
    this.optimizer.lr = this.schedule(this.t, this.baseLr);
  }
}
