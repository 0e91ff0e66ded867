// Bit statistics of binary layers: the fraction of +1 (and 0) codes, the
// weight entropy in bits, and how many codes flipped since the last snapshot.
// These are the quantities the Equal Bits paper argues about: bi-half keeps
// the entropy at exactly 1 bit per weight and makes flips come in pairs.
import type { Module } from '../nn/index.js';
import { isBinaryLayer, type BinaryConv2d, type BinaryLinear } from './layers.js';

export interface GroupBitStats {
  plus: number; zero: number; minus: number;
  entropyBits: number;
  /** Codes that went up (for binary weights: -1 -> +1) / down (+1 -> -1) since the snapshot. */
  flipsUp: number; flipsDown: number;
}

export interface LayerBitStats {
  name: string;
  quantizer: string;
  groups: number;
  groupSize: number;
  weights: number;
  /** Fractions over the whole layer. */
  plusFraction: number; zeroFraction: number; minusFraction: number;
  /** Entropy of the layer's code distribution, in bits per weight. */
  entropyBits: number;
  /** Mean over groups of each group's entropy. */
  meanGroupEntropyBits: number;
  flipsUp: number; flipsDown: number;
  /** Present when asked for: one entry per quantizer group (filter). */
  perGroup?: GroupBitStats[];
}

/** Shannon entropy in bits of a distribution given by counts. */
export function entropyBits(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log2(c / total);
  return h;
}

type BinaryLayer = BinaryConv2d | BinaryLinear;
const snapshots = new WeakMap<BinaryLayer, Int8Array>();

/** Statistics of one layer; flips are counted against its last snapshot (zero if none). */
export function layerBitStats(name: string, layer: BinaryLayer, perGroup = false): LayerBitStats {
  const bw = layer.binaryWeight();
  const { codes } = bw;
  const groups = bw.groups, n = bw.groupSize;
  const prev = snapshots.get(layer);
  const per: GroupBitStats[] = [];
  let plus = 0, zero = 0, up = 0, down = 0, groupEntropySum = 0;
  for (let g = 0; g < groups; g++) {
    let p = 0, z = 0, u = 0, d = 0;
    for (let i = g * n; i < (g + 1) * n; i++) {
      const c = codes[i];
      if (c > 0) p++; else if (c === 0) z++;
      if (prev) { if (c > prev[i]) u++; else if (c < prev[i]) d++; }
    }
    const m = n - p - z;
    const h = entropyBits([p, z, m]);
    groupEntropySum += h;
    plus += p; zero += z; up += u; down += d;
    if (perGroup) per.push({ plus: p, zero: z, minus: m, entropyBits: h, flipsUp: u, flipsDown: d });
  }
  const total = codes.length, minus = total - plus - zero;
  return {
    name, quantizer: layer.weightQuantizer.name, groups, groupSize: n, weights: total,
    plusFraction: plus / total, zeroFraction: zero / total, minusFraction: minus / total,
    entropyBits: entropyBits([plus, zero, minus]), meanGroupEntropyBits: groupEntropySum / groups,
    flipsUp: up, flipsDown: down,
    ...(perGroup ? { perGroup: per } : {}),
  };
}

/** Fraction of +1 codes over all the given layers, weighted by their sizes. */
export function overallPlusFraction(layers: LayerBitStats[]): number {
  const weights = layers.reduce((s, l) => s + l.weights, 0);
  return layers.reduce((s, l) => s + l.plusFraction * l.weights, 0) / weights;
}

/** Remembers every binary layer's current codes; later flips are counted from here. */
export function snapshotBits(model: Module): void {
  for (const [, m] of model.namedModules()) {
    if (isBinaryLayer(m)) snapshots.set(m, m.binaryWeight().codes.slice());
  }
}

/** Each binary layer's snapshot (the codes its flips are counted from), by module name: for checkpoints. */
export function bitSnapshot(model: Module): Record<string, Int8Array> {
  const out: Record<string, Int8Array> = {};
  for (const [name, m] of model.namedModules()) {
    const snap = isBinaryLayer(m) ? snapshots.get(m) : undefined;
    if (snap) out[name] = snap;
  }
  return out;
}

/**
 * Restores a bitSnapshot, so that a run resumed mid-epoch counts the epoch's
 * flips from its start. A layer missing from it, or of another size, is
 * snapshotted as it is now.
 */
export function restoreBitSnapshot(model: Module, snap: Record<string, Int8Array>): void {
  for (const [name, m] of model.namedModules()) {
    if (!isBinaryLayer(m)) continue;
    const codes = m.binaryWeight().codes, saved = snap[name];
    snapshots.set(m, saved instanceof Int8Array && saved.length === codes.length ? saved.slice() : codes.slice());
  }
}

/**
 * Statistics of every binary layer in the model, by module name. With
 * snapshot = true (what a training loop wants once per epoch) the flips are
 * counted since the previous call and a new snapshot is taken.
 */
export function bitStats(model: Module, opts: { perGroup?: boolean; snapshot?: boolean } = {}): LayerBitStats[] {
  const out: LayerBitStats[] = [];
  for (const [name, m] of model.namedModules()) {
    if (isBinaryLayer(m)) out.push(layerBitStats(name, m, opts.perGroup ?? false));
  }
  if (opts.snapshot) snapshotBits(model);
  return out;
}
