// Small self-contained SVG charts for the experiment reports: line/marker
// series with optional error bars, linear axes with "nice" ticks. No
// dependency: the output is a plain string that embeds in HTML or Markdown.

export interface Point { x: number; y: number; err?: number }
export interface Series { name: string; points: Point[] }
export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Draw only markers (no connecting line), e.g. for a categorical x. */
  markersOnly?: boolean;
  /** Logarithmic y axis; points with y <= 0 cannot be drawn on it and are left out. */
  logY?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number): string => String(+v.toPrecision(6));

/** About `count` round tick values covering [lo, hi]; whole numbers only when `integer`. */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!(hi > lo)) { const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1; lo -= d; hi += d; }
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const steps = [1, 2, 2.5, 5, 10].map((m) => m * mag).filter((s) => !integer || Number.isInteger(s));
  const step = steps.find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  if (ticks[0] > lo) ticks.unshift(+(ticks[0] - step).toPrecision(12));
  if (ticks[ticks.length - 1] < hi) ticks.push(+(ticks[ticks.length - 1] + step).toPrecision(12));
  return ticks;
}

/**
 * Ticks of a log axis covering [lo, hi] (both > 0): the powers of ten that
 * enclose them, with 2x and 5x between when that spans under three decades.
 */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo)), b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  const mults = b - a < 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) for (const m of mults) ticks.push(+(m * 10 ** e).toPrecision(12));
  return ticks.filter((t) => t <= 10 ** b);
}

export function lineChart(o: ChartOptions): string {
  // The legend (several series) sits right of the plot, as wide as its
  // longest name at ~7 px a character; a wider legend widens the figure
  // rather than the names running off its edge.
  const legend = o.series.length > 1 ? Math.max(130, 34 + 7 * Math.max(...o.series.map((s) => s.name.length))) : 0;
  const W = (o.width ?? 560) + Math.max(0, legend - 130), H = o.height ?? 340, L = 64, R = 16 + legend, T = 34, B = 48;
  const series = o.logY ? o.series.map((s) => ({ ...s, points: s.points.filter((p) => p.y > 0) })) : o.series;
  const pts = series.flatMap((s) => s.points);
  if (!pts.length) pts.push({ x: 0, y: 1 });
  const xs = niceTicks(Math.min(...pts.map((p) => p.x)), Math.max(...pts.map((p) => p.x)), 6, pts.every((p) => Number.isInteger(p.x)));
  const ys = o.logY
    ? logTicks(Math.min(...pts.map((p) => p.y)), Math.max(...pts.map((p) => p.y)))
    : niceTicks(Math.min(...pts.map((p) => p.y - (p.err ?? 0))), Math.max(...pts.map((p) => p.y + (p.err ?? 0))));
  const [x0, x1, y0, y1] = [xs[0], xs[xs.length - 1], ys[0], ys[ys.length - 1]];
  const ty = o.logY ? (y: number) => Math.log10(Math.max(y, y0)) : (y: number) => y;
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => H - B - ((ty(y) - ty(y0)) / (ty(y1) - ty(y0))) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  for (const t of xs) out.push(`<line x1="${px(t)}" y1="${T}" x2="${px(t)}" y2="${H - B}" stroke="#eee"/><text x="${px(t)}" y="${H - B + 16}" text-anchor="middle">${fmt(t)}</text>`);
  for (const t of ys) out.push(`<line x1="${L}" y1="${py(t)}" x2="${W - R}" y2="${py(t)}" stroke="#eee"/><text x="${L - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    if (!o.markersOnly && s.points.length > 1) {
      out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of s.points) {
      if (p.err) out.push(`<line x1="${px(p.x)}" y1="${py(p.y - p.err)}" x2="${px(p.x)}" y2="${py(p.y + p.err)}" stroke="${c}"/>`);
      out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${c}"><title>${esc(s.name)}: ${fmt(p.x)}, ${fmt(p.y)}${p.err ? ` ± ${fmt(p.err)}` : ''}</title></circle>`);
    }
    if (series.length > 1) out.push(`<rect x="${W - R + 12}" y="${T + 18 * i}" width="12" height="12" fill="${c}"/><text x="${W - R + 30}" y="${T + 18 * i + 11}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
