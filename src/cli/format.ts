// Number formatting shared by the commands' human-readable output.

/** 0.91372 -> "91.37%". */
export const pct = (v: number): string => (100 * v).toFixed(2) + '%';
