// Which ReLUs a network still uses. A ReLU whose input is never positive
// passes neither signal nor gradient: a dead unit. conv2-conv8 have no batch
// norm and no biases, so a weight ratio far from 1/2 can kill whole layers:
// with 80% of a filter at -1 and non-negative inputs (the previous ReLU's
// output), almost every pre-activation is negative (docs/results.md, the
// CIFAR-10 ratio study). watchReLUs counts this over the forwards it sees.
import type { Tensor } from '../autograd/index.js';
import { ReLU } from './layers.js';
import type { Module } from './module.js';

export interface ReLUStat {
  /** The ReLU's module name, e.g. "convs.1". */
  name: string;
  /** Fraction of all inputs seen that were > 0. */
  positiveFraction: number;
  /** Input positions per image (C*H*W or features) never > 0 on any image seen. */
  deadUnits: number;
  /** Input positions per image. */
  units: number;
  images: number;
}

interface Tally { name: string; positive: number; total: number; ever: Uint8Array | null; images: number }

function tally(t: Tally, x: Tensor): void {
  const n = x.shape[0], per = x.data.length / n, d = x.data;
  if (t.ever === null) t.ever = new Uint8Array(per);
  if (t.ever.length !== per) throw new Error(`ReLU ${t.name}: input size changed from ${t.ever.length} to ${per} per image`);
  const ever = t.ever;
  let positive = 0;
  for (let i = 0, k = 0; i < n; i++) {
    for (let j = 0; j < per; j++, k++) {
      if (d[k] > 0) { positive++; ever[j] = 1; }
    }
  }
  t.positive += positive; t.total += d.length; t.images += n;
}

/**
 * Starts counting the inputs of every ReLU of model (forward passes only;
 * the outputs are unchanged). stats() reads the counts so far; stop() puts
 * the ReLUs back as they were.
 */
export function watchReLUs(model: Module): { stats(): ReLUStat[]; stop(): void } {
  const watched: [ReLU, Tally][] = model.namedModules()
    .filter((e): e is [string, ReLU] => e[1] instanceof ReLU)
    .map(([name, m]) => [m, { name, positive: 0, total: 0, ever: null, images: 0 }]);
  for (const [m, t] of watched) {
    m.forward = (x: Tensor) => { tally(t, x); return ReLU.prototype.forward.call(m, x); };
  }
  return {
    stats: () => watched.map(([, t]) => {
      const units = t.ever?.length ?? 0;
      const dead = t.ever ? t.ever.reduce((s, v) => s + (v ? 0 : 1), 0) : 0;
      return { name: t.name, positiveFraction: t.total ? t.positive / t.total : 0, deadUnits: dead, units, images: t.images };
    }),
    stop: () => { for (const [m] of watched) delete (m as { forward?: unknown }).forward; },
  };
}
