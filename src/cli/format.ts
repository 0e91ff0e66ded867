// Number formatting shared by the commands' human-readable output.

/** 0.91372 -> "91.37%". */
export const pct = (v: number): string => (100 * v).toFixed(2) + '%';

/**
 * A warning for an epoch whose test logits were all equal on most images:
 * the network computes a constant (dead ReLUs, a collapsed scale), which a
 * top-1 near chance alone does not say. Empty otherwise.
 */
export function deadNetworkWarning(test: { constant?: number }): string {
  return (test.constant ?? 0) > 0.5 ? ` | warning: all logits equal on ${pct(test.constant!)} of test images (a dead network?)` : '';
}
