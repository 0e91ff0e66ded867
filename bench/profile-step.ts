// Where one training (or inference) step of a zoo model spends its time, per
// native kernel: every function of the addon is wrapped with a timer, the
// model runs 2 warm-up steps and then --steps timed ones (default 5) on a
// random batch, and the kernels are listed by milliseconds per step, convs
// by shape. Not part of `npm run bench` (it has no peer); for finding what
// to speed up, and for checking a change kernel by kernel, which is steadier
// on a shared machine than the whole step's time.
//   node dist/bench/profile-step.js <model> [float|ste_sign] [train|infer] [--steps N]
import { kernels } from '../src/native/index.js';
import { numArg } from './common.js';

type Geometry = { cin: number; cout: number; h: number; sh: number };
const spent = new Map<string, { ms: number; calls: number }>();
const table = kernels as unknown as Record<string, unknown>;
for (const name of Object.keys(table)) {
  const f = table[name];
  if (typeof f !== 'function') continue;
  table[name] = (...args: unknown[]) => {
    const t0 = process.hrtime.bigint();
    const r = (f as (...a: unknown[]) => unknown)(...args);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const g = args[0] as Geometry;
    const key = name.startsWith('conv2d') ? `${name} ${g.cin}->${g.cout}@${g.h}s${g.sh}` : name;
    const e = spent.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    spent.set(key, e);
    return r;
  };
}
// The rest is imported after the wrapping, so that it calls the wrapped kernels.
const { createModel, modelSpec } = await import('../src/models/index.js');
const { Tensor, tidy, noGrad, crossEntropy } = await import('../src/autograd/index.js');
const { SGD } = await import('../src/train/index.js');
const { Rng } = await import('../src/util/prng.js');

const [name = 'conv2', acts = 'float', mode = 'train'] = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const steps = numArg('steps', 5), batch = 128;
kernels.setNumThreads(2);
const spec = modelSpec(name);
const model = createModel(name, { weights: { name: 'bihalf' }, activations: acts as 'float' | 'ste_sign' });
const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const rng = new Rng(1);
const x = new Tensor(rng.fillNormal(new Float32Array(batch * spec.inputShape.reduce((a, b) => a * b, 1))), [batch, ...spec.inputShape]);
const y = Int32Array.from({ length: batch }, () => rng.int(spec.defaultClasses));
const step = mode === 'train'
  ? () => { tidy(() => { opt.zeroGrad(); crossEntropy(model.forward(x), y).backward(); }); opt.step(); }
  : () => tidy(() => { noGrad(() => model.forward(x)); });
if (mode !== 'train') model.eval();
for (let i = 0; i < 2; i++) step();
spent.clear();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const total = (performance.now() - t0) / steps;
let inKernels = 0;
for (const [key, e] of [...spent].sort((a, b) => b[1].ms - a[1].ms)) {
  inKernels += e.ms / steps;
  console.log(`${(e.ms / steps).toFixed(2).padStart(8)} ms  ${String(e.calls / steps).padStart(4)}x  ${key}`);
}
console.log(`${name} ${acts} ${mode}: step ${total.toFixed(1)} ms, kernels ${inKernels.toFixed(1)} ms, other ${(total - inKernels).toFixed(1)} ms, ${(batch / total * 1000).toFixed(1)} img/s`);
