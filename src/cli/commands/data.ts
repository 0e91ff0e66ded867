// ebnn data download <name> --dir D: official archives, checksum-verified,
// resumable and atomic (see src/data/download.ts), with a progress bar.
import type { Command } from 'commander';
import { downloadDataset, defaultDataDir, DOWNLOADS, type DownloadableDataset } from '../../data/index.js';
import { UserError } from '../../util/errors.js';
import { progressBar, type Progress } from '../progress.js';

export function registerData(program: Command): void {
  const data = program.command('data').description('dataset utilities');
  data.command('download <name>')
    .description(`download a dataset (${Object.keys(DOWNLOADS).join(', ')}) with checksum verification; reruns resume`)
    .option('--dir <dir>', 'target folder (default: $EQUALBITS_DATA/<name> or ~/.cache/equalbits/<name>)')
    .option('--base-url <url>', 'mirror to fetch from instead of the official location')
    .action(async (name: string, flags: { dir?: string; baseUrl?: string }) => {
      if (!(name in DOWNLOADS)) throw new UserError(`unknown dataset "${name}" (known: ${Object.keys(DOWNLOADS).join(', ')})`);
      const dir = flags.dir ?? defaultDataDir(name as DownloadableDataset);
      let bar: Progress | null = null, current = '';
      const out = await downloadDataset(name as DownloadableDataset, dir, {
        baseUrl: flags.baseUrl,
        onProgress: (p) => {
          if (p.file !== current || !bar) {
            bar?.stop();
            current = p.file;
            bar = progressBar(Math.max(1, Math.round((p.total ?? 0) / 1024)), `${p.file} (KiB)`);
          }
          bar.update(Math.round(p.received / 1024), {});
        },
      });
      (bar as Progress | null)?.stop();
      console.log(`${name}: verified files in ${out}`);
    });
}
