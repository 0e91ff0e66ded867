// Progress bar for long loops (epochs, evaluation): images/s, loss, accuracy, ETA.
// Falls back to nothing when stderr is not a terminal unless forced, so logs stay clean.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, fields: { loss?: number; acc?: number; imgs?: number }): void;
  stop(): void;
}

export function progressBar(total: number, label: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    format: `${label} {bar} {value}/{total} | {imgs} img/s | loss {loss} | acc {acc} | ETA {eta_formatted}`,
    barCompleteChar: '█', barIncompleteChar: '░', hideCursor: true, clearOnComplete: false, etaBuffer: 20,
    stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { loss: '-', acc: '-', imgs: '-' });
  return {
    update(done, f) {
      bar.update(done, {
        loss: f.loss === undefined ? '-' : f.loss.toFixed(4),
        acc: f.acc === undefined ? '-' : (100 * f.acc).toFixed(2) + '%',
        imgs: f.imgs === undefined ? '-' : f.imgs.toFixed(0),
      });
    },
    stop() { bar.stop(); },
  };
}
