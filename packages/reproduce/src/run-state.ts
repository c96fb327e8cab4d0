/**
 * An experiment's state folder, `<out>/state`: one checkpoint per run being trained and one record per
 * run finished. A new experiment run never reuses nor discards an earlier run's state silently: it
 * needs --resume (reuse finished runs, continue checkpoints) or --force (start over).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentContext } from './experiments.js';

export interface RunState {
  /** `<out>/state`. */
  dir: string;
  /** Where the trainer keeps run `id`'s checkpoint. */
  checkpointFile(id: string): string;
  /** Run `id`'s record when it finished earlier and this is a --resume; undefined otherwise. */
  finished<RunRecord>(id: string): RunRecord | undefined;
  /** Stores run `id`'s record so that a later --resume skips the run. */
  markFinished(id: string, record: unknown): void;
}

export function prepareStateDir(ctx: Pick<ExperimentContext, 'outDir' | 'resume' | 'force'>): RunState {
  mkdirSync(ctx.outDir, { recursive: true });
  const dir = join(ctx.outDir, 'state');
  const hasState = existsSync(dir) && readdirSync(dir).length > 0;
  if (hasState && !ctx.resume) {
    if (!ctx.force) {
      throw new Error(`--out ${ctx.outDir} holds checkpoints or finished runs of an earlier run (${dir}); pass --resume to continue it, --force to discard it and start over, or choose another --out`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(join(dir, 'finished'), { recursive: true });
  const finishedFile = (id: string): string => join(dir, 'finished', `${id}.json`);
  return {
    dir,
    checkpointFile: (id) => join(dir, 'checkpoints', `${id}.bin`),
    finished<RunRecord>(id: string): RunRecord | undefined {
      const file = finishedFile(id);
      return ctx.resume && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunRecord) : undefined;
    },
    markFinished: (id, record) => writeFileSync(finishedFile(id), JSON.stringify(record, null, 2)),
  };
}
