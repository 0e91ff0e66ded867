// Mini-batches of augmented, normalised float images from a uint8 dataset.
//
// Determinism: the order and augmentation of epoch e are a pure function of
// (seed, e) (see plan.ts), whatever the number of workers and whatever epochs
// ran before, so a run resumed at epoch e gets the batches an uninterrupted
// run would.
//
// Threads: with workers >= 1 (the default), worker_threads fill the next
// batches while the consumer computes. They read the pixels from the
// dataset's SharedArrayBuffer and write into a small ring of shared slots
// (workers * prefetch + 1 of them, reused across epochs), so nothing large is
// allocated or copied per batch. Batch b lives in slot b % K; when the
// consumer asks for batch b + 1, slot b % K is handed back and batch b + K is
// requested into it. workers: 0 runs the same code in the calling thread.
//
// Buffer contract: a batch's x and y belong to the consumer until it asks for
// the next batch (or ends the loop): it may read them and overwrite them in
// place meanwhile. After that the loader reuses them for a later batch, so
// copy what must outlive that.
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import { type ImageDataset, type Normalization, checkDataset, checkNormalization } from './dataset.js';
import { normalizeTable } from './transforms.js';
import { type PlanConfig, type PixelSource, makePlan, fillBatch, batchCount } from './plan.js';
import type { WorkerInit, FillRequest, FillReply } from './batch-worker.js';

export interface AugmentOptions {
  /** Random crop with this much zero padding (CIFAR: 4); a number or { padding }. */
  crop?: number | { padding: number };
  /** Horizontal flip: true = with probability 0.5, or the probability. */
  flip?: boolean | number;
}

export interface BatchLoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default false: dataset order). */
  shuffle?: boolean;
  augment?: AugmentOptions;
  /** Per-channel mean and std on the [0, 1] scale; without it x = v / 255. */
  normalize?: Normalization;
  /** Seed of the epoch plans (default 0). */
  seed?: number;
  /** Drop the last, smaller batch (default false). */
  dropLast?: boolean;
  /** Worker threads preparing batches (default 1); 0 = in the calling thread. */
  workers?: number;
  /** Batches each worker may prepare ahead of the consumer (default 2). */
  prefetch?: number;
}

/** x [size, c, h, w] and y [size]; the consumer's (to read or overwrite) until it requests the next batch. */
export interface Batch { x: Float32Array; y: Int32Array; size: number }

interface Slots { x: Float32Array[]; y: Int32Array[] }

const WORKER_URL = new URL('./batch-worker.js', import.meta.url);

/** The parent's node options minus those about its own entry script (-e, --input-type), which would break a worker started from a file. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') { i++; continue; }
    if (a.startsWith('--input-type') || a.startsWith('--eval=') || a.startsWith('--print=')) continue;
    out.push(a);
  }
  return out;
}

// A worker refuses per-process V8 flags of the parent (e.g. node --perf-basic-prof):
// it then starts with none, since it needs none of them to decode batches.
function startWorker(workerData: unknown): Worker {
  try {
    return new Worker(WORKER_URL, { workerData, execArgv: workerExecArgv() });
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    return new Worker(WORKER_URL, { workerData, execArgv: [] });
  }
}

function intOption(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UserError(`BatchLoader: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export class BatchLoader {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly workers: number;
  readonly prefetch: number;
  /** Batches per epoch (after dropLast). */
  readonly batchesPerEpoch: number;
  /** Images per epoch (after dropLast). */
  readonly imagesPerEpoch: number;
  private readonly cfg: PlanConfig;
  private readonly lut: Float32Array;
  private source: PixelSource | null = null;
  private readonly idle: { local: Slots[]; shared: Slots[] } = { local: [], shared: [] };
  private live = 0;

  constructor(ds: ImageDataset, opts: BatchLoaderOptions) {
    checkDataset(ds);
    this.dataset = ds;
    this.batchSize = intOption('batchSize', opts.batchSize, 1);
    this.workers = intOption('workers', opts.workers ?? 1, 0);
    this.prefetch = intOption('prefetch', opts.prefetch ?? 2, 1);
    const crop = opts.augment?.crop;
    const pad = intOption('augment.crop padding', crop === undefined ? 0 : typeof crop === 'number' ? crop : crop.padding, 0);
    const flip = opts.augment?.flip;
    const flipP = flip === undefined || flip === false ? 0 : flip === true ? 0.5 : flip;
    if (typeof flipP !== 'number' || !(flipP >= 0 && flipP <= 1)) throw new UserError(`BatchLoader: augment.flip must be a boolean or a probability in [0, 1], got ${flip}`);
    const seed = opts.seed ?? 0;
    if (!Number.isInteger(seed)) throw new UserError(`BatchLoader: seed must be an integer, got ${seed}`);
    if (opts.normalize) checkNormalization(opts.normalize, ds.c);
    const dropLast = opts.dropLast ?? false;
    this.cfg = { seed, shuffle: opts.shuffle ?? false, pad, flipP, batchSize: this.batchSize, dropLast };
    this.lut = normalizeTable(ds.c, opts.normalize);
    this.batchesPerEpoch = batchCount(ds.n, this.batchSize, dropLast);
    this.imagesPerEpoch = dropLast ? this.batchesPerEpoch * this.batchSize : ds.n;
  }

  /** Worker threads currently running for this loader's unfinished epochs (0 once every loop has ended). */
  get activeWorkers(): number {
    return this.live;
  }

  /** [c, h, w] of every image in a batch. */
  get imageShape(): [number, number, number] {
    return [this.dataset.c, this.dataset.h, this.dataset.w];
  }

  /**
   * The batches of epoch e (0-based), prepared by the workers. Ending the loop
   * early (break, throw) stops the workers; see the buffer contract above.
   */
  epoch(e: number): AsyncGenerator<Batch, void, undefined> {
    intOption('epoch', e, 0);
    return this.workers === 0 ? this.inThread(e) : this.threaded(e);
  }

  /** The same batches as epoch(e), computed synchronously in the calling thread. */
  *epochSync(e: number): Generator<Batch, void, undefined> {
    intOption('epoch', e, 0);
    const ds = this.dataset;
    const plan = makePlan(ds.n, e, this.cfg);
    const slots = this.takeSlots(false, 1);
    try {
      for (let b = 0; b < plan.batches; b++) {
        const size = fillBatch(ds, plan, b, this.cfg, this.lut, slots.x[0], slots.y[0]);
        yield this.view(slots, 0, size);
      }
    } finally {
      this.idle.local.push(slots);
    }
  }

  private async *inThread(e: number): AsyncGenerator<Batch, void, undefined> {
    yield* this.epochSync(e);
  }

  private view(slots: Slots, s: number, size: number): Batch {
    const per = this.dataset.c * this.dataset.h * this.dataset.w;
    return size === this.batchSize
      ? { x: slots.x[s], y: slots.y[s], size }
      : { x: slots.x[s].subarray(0, size * per), y: slots.y[s].subarray(0, size), size };
  }

  private takeSlots(shared: boolean, count: number): Slots {
    const pool = shared ? this.idle.shared : this.idle.local;
    const reuse = pool.pop();
    if (reuse) return reuse;
    const per = this.dataset.c * this.dataset.h * this.dataset.w;
    const x: Float32Array[] = [], y: Int32Array[] = [];
    for (let i = 0; i < count; i++) {
      x.push(shared ? new Float32Array(new SharedArrayBuffer(this.batchSize * per * 4)) : new Float32Array(this.batchSize * per));
      y.push(shared ? new Int32Array(new SharedArrayBuffer(this.batchSize * 4)) : new Int32Array(this.batchSize));
    }
    return { x, y };
  }

  /** The dataset on shared memory: as is when the reader put it there, else copied once. */
  private sharedSource(): PixelSource {
    if (this.source) return this.source;
    const ds = this.dataset;
    const share = <T extends Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
      if (a.buffer instanceof SharedArrayBuffer) return a;
      const copy = make(a.length);
      copy.set(a);
      return copy;
    };
    this.source = {
      pixels: share(ds.pixels, (n) => new Uint8Array(new SharedArrayBuffer(n))),
      labels: share(ds.labels, (n) => new Int32Array(new SharedArrayBuffer(n * 4))),
      n: ds.n, c: ds.c, h: ds.h, w: ds.w,
    };
    return this.source;
  }

  private async *threaded(e: number): AsyncGenerator<Batch, void, undefined> {
    const total = this.batchesPerEpoch;
    if (total === 0) return;
    const ring = this.workers * this.prefetch + 1;
    const slots = this.takeSlots(true, ring);
    const init: WorkerInit = {
      ds: this.sharedSource(), cfg: this.cfg, epoch: e, lut: this.lut,
      slotsX: slots.x.map((a) => a.buffer as SharedArrayBuffer), slotsY: slots.y.map((a) => a.buffer as SharedArrayBuffer),
    };
    const workers = Array.from({ length: Math.min(this.workers, total) }, () => startWorker(init));
    this.live += workers.length;
    const waiting = new Map<number, { resolve: (size: number) => void; reject: (err: Error) => void; done: Promise<number> }>();
    let broken: Error | null = null, closing = false;
    const breakAll = (err: Error) => {
      broken ??= err;
      for (const w of waiting.values()) w.reject(broken);
    };
    for (const w of workers) {
      w.on('message', (m: FillReply) => {
        const entry = waiting.get(m.b);
        if (!entry) return;
        if ('error' in m) entry.reject(new Error(`batch worker failed on batch ${m.b}: ${m.error}`));
        else entry.resolve(m.size);
      });
      w.on('error', (err) => breakAll(err));
      w.on('exit', (code) => { if (!closing) breakAll(new Error(`batch worker exited unexpectedly (code ${code})`)); });
    }
    const request = (b: number) => {
      if (b >= total) return;
      let resolve!: (size: number) => void, reject!: (err: Error) => void;
      const done = new Promise<number>((res, rej) => { resolve = res; reject = rej; });
      done.catch(() => {}); // rejections are observed when the batch is awaited; never unhandled
      waiting.set(b, { resolve, reject, done });
      if (broken) reject(broken);
      else workers[b % workers.length].postMessage({ b, slot: b % ring } satisfies FillRequest);
    };
    try {
      for (let b = 0; b < Math.min(ring, total); b++) request(b);
      for (let b = 0; b < total; b++) {
        // Workers keep the process alive only while the consumer waits on them,
        // so an iterator that is dropped without break cannot hang the exit.
        for (const w of workers) w.ref();
        const size = await waiting.get(b)!.done;
        for (const w of workers) w.unref();
        waiting.delete(b);
        yield this.view(slots, b % ring, size);
        request(b + ring); // the consumer is done with batch b: its slot is free
      }
    } finally {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
      this.live -= workers.length;
      this.idle.shared.push(slots);
    }
  }
}
