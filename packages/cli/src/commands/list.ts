import type { Command } from 'commander';
import { listExperiments } from '@sparse-ift/reproduce';
import { printJson } from '../output.js';

export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list the experiments and their presets')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const experiments = listExperiments().map((e) => ({
        name: e.name,
        description: e.description,
        defaultPreset: e.defaultPreset,
        presets: Object.entries(e.presets).map(([name, p]) => ({ name, description: p.description, defaultSeeds: p.defaultSeeds })),
      }));
      if (options.json) return printJson({ experiments });
      for (const e of experiments) {
        process.stdout.write(`${e.name}: ${e.description}\n`);
        for (const p of e.presets) {
          process.stdout.write(`  --preset ${p.name}${p.name === e.defaultPreset ? ' (default)' : ''}: ${p.description} [${p.defaultSeeds} seed${p.defaultSeeds === 1 ? '' : 's'}]\n`);
        }
      }
    });
}
