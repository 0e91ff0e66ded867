// ebnn report <dirs...>: an HTML page (figures inline) and a Markdown summary
// (figures as SVG files) rebuilt from the sweeps' and runs' metrics logs.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildReport, renderHtml, renderMarkdown } from '../../experiments/report.js';
import { writeFileAtomic } from '../../train/index.js';
import { UserError } from '../../util/errors.js';

export function registerReport(program: Command): void {
  program.command('report')
    .description('render sweeps (ebnn experiment ...) and training runs as report.html + report.md with SVG figures')
    .argument('<dirs...>', 'sweep folders (with sweep.json) or run folders (with metrics.jsonl)')
    .option('-o, --out <dir>', 'output folder', 'report')
    .action((dirs: string[], flags: { out: string }) => {
      for (const d of dirs) if (!fs.existsSync(d)) throw new UserError(`${d}: no such folder`);
      const sections = buildReport(dirs);
      const figDir = path.join(flags.out, 'figures');
      fs.mkdirSync(figDir, { recursive: true });
      for (const f of sections.flatMap((s) => s.figures)) writeFileAtomic(path.join(figDir, f.file), Buffer.from(f.svg));
      writeFileAtomic(path.join(flags.out, 'report.md'), Buffer.from(renderMarkdown(sections, 'figures')));
      writeFileAtomic(path.join(flags.out, 'report.html'), Buffer.from(renderHtml(sections)));
      console.log(`wrote ${path.join(flags.out, 'report.html')}, report.md and ${sections.flatMap((s) => s.figures).length} figures`);
    });
}
