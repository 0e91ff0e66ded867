// A BatchLoader worker: computes the epoch's plan from (seed, epoch), exactly
// as the in-thread path does, then fills the batches the main thread asks for
// into shared slots and answers with their size. See loader.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { makePlan, fillBatch, type PlanConfig, type PixelSource } from './plan.js';

export interface WorkerInit {
  ds: PixelSource;
  cfg: PlanConfig;
  epoch: number;
  lut: Float32Array;
  slotsX: SharedArrayBuffer[];
  slotsY: SharedArrayBuffer[];
}
export interface FillRequest { b: number; slot: number }
export type FillReply = { b: number; size: number } | { b: number; error: string };

const init = workerData as WorkerInit;
const plan = makePlan(init.ds.n, init.epoch, init.cfg);
const xs = init.slotsX.map((buf) => new Float32Array(buf));
const ys = init.slotsY.map((buf) => new Int32Array(buf));

parentPort!.on('message', (req: FillRequest) => {
  let reply: FillReply;
  try {
    reply = { b: req.b, size: fillBatch(init.ds, plan, req.b, init.cfg, init.lut, xs[req.slot], ys[req.slot]) };
  } catch (e) {
    reply = { b: req.b, error: (e as Error).stack ?? String(e) };
  }
  parentPort!.postMessage(reply);
});
