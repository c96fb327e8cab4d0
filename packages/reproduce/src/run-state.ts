/**
 * An experiment's state folder, `<out>/state`: who it belongs to (`identity.json`: experiment, preset
 * and a hash of the resolved configuration), one checkpoint per run being trained and one record per run
 * finished. A new experiment run never reuses nor discards an earlier run's state silently: it needs
 * --resume (reuse finished runs, continue checkpoints, and only those of the same experiment, preset
 * and configuration) or --force (start over). One process at a time writes an --out folder (a lock
 * with its PID; a dead owner's lock is taken over), --force included; temp files that killed
 * processes left are removed on start. Every file is written atomically.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { lockFolder, makeFolder, notRegularFileReason, removeLeftoverTemps, writeFileAtomic, type FolderLock } from '@sparse-ift/files';
import type { ExperimentContext } from './experiments.js';

/** What a state folder and each of its runs belong to. */
export interface RunIdentity {
  experiment: string;
  preset: string;
  /** First 16 hex digits of the sha256 of the resolved configuration (keys sorted). */
  configHash: string;
}

export interface RunState {
  /** `<out>/state`. */
  dir: string;
  identity: RunIdentity;
  /** Where the trainer keeps run `id`'s checkpoint. */
  checkpointFile(id: string): string;
  /**
   * Run `id`'s record when it finished earlier and this is a --resume; undefined otherwise. `check` says
   * what is wrong with a stored record, if anything (then the file is named as damaged).
   */
  finished<RunRecord>(id: string, check?: (record: unknown) => string | undefined): RunRecord | undefined;
  /**
   * Stores run `id`'s record (atomically) so that a later --resume skips the run, then deletes the run's
   * checkpoint: nothing reads it again (the exported model under models/ keeps the weights), and GPT or
   * ImageNet checkpoints are gigabytes each.
   */
  markFinished(id: string, record: unknown): void;
  /** Releases the --out lock (also done when the process exits). */
  release(): void;
}

/** JSON with object keys sorted, so equal configurations hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** The identity of an experiment run: its name, preset and the hash of its resolved configuration. */
export function runIdentity(experiment: string, preset: string, config: unknown): RunIdentity {
  return { experiment, preset, configHash: createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16) };
}

/** `fashion-mnist --preset default (configuration 3f9a…)`, for messages. */
export function describeIdentity(identity: RunIdentity): string {
  return `${identity.experiment} --preset ${identity.preset} (configuration ${identity.configHash})`;
}

const sameIdentity = (a: RunIdentity, b: RunIdentity): boolean => a.experiment === b.experiment && a.preset === b.preset && a.configHash === b.configHash;

/** A JSON file of the state folder, or a clear error naming it and what to do. */
function readStateJson<T>(file: string, what: string): T {
  const unreadable = notRegularFileReason(file);
  if (unreadable !== undefined) throw new Error(`${what} ${file} cannot be read: ${unreadable}; delete it, or pass --force to start over`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new Error(`${what} ${file} is damaged (${(error as Error).message}); delete it (that run is then trained again), or pass --force to start over`);
  }
}

/** A finished run's record on disk: the run's full identity, then what the experiment recorded. */
interface FinishedEnvelope {
  run: RunIdentity & { id: string };
  record: unknown;
}

export function prepareStateDir(
  ctx: Pick<ExperimentContext, 'outDir' | 'resume' | 'force' | 'preset'> & Partial<Pick<ExperimentContext, 'log'>>,
  run: { experiment: string; config: unknown },
): RunState {
  const identity = runIdentity(run.experiment, ctx.preset, run.config);
  makeFolder(ctx.outDir);
  // Before anything is read or removed: another live process writing here is refused, --force or not.
  const lock: FolderLock = lockFolder(ctx.outDir);
  try {
    if (lock.replaced) ctx.log?.(`removed the lock of process ${lock.replaced.pid}, which no longer runs (${lock.replaced.command})`);
    for (const leftover of removeLeftoverTemps(ctx.outDir, { recursive: true })) ctx.log?.(`removed ${leftover}, left by a process that was killed while writing it`);
    const dir = join(ctx.outDir, 'state');
    const identityFile = join(dir, 'identity.json');
    const hasState = existsSync(dir) && readdirSync(dir).length > 0;
    if (hasState && !ctx.resume) {
      if (!ctx.force) {
        throw new Error(`--out ${ctx.outDir} holds checkpoints or finished runs of an earlier run (${dir}); pass --resume to continue it, --force to discard it and start over, or choose another --out`);
      }
      rmSync(dir, { recursive: true, force: true });
    }
    if (hasState && ctx.resume) {
      if (!existsSync(identityFile)) {
        throw new Error(
          `--out ${ctx.outDir} holds state without a record of its experiment, preset and configuration (written by an older sparse-ift), so --resume cannot tell whether it belongs to ${describeIdentity(identity)}; pass --force to start over, or choose another --out`,
        );
      }
      const earlier = readStateJson<RunIdentity>(identityFile, 'state identity');
      if (!sameIdentity(earlier, identity)) {
        throw new Error(
          `--out ${ctx.outDir} holds runs of ${describeIdentity(earlier)}, not of ${describeIdentity(identity)}; --resume would mix them. ` +
            'Rerun with the same preset and settings, choose another --out, or pass --force to discard those runs',
        );
      }
    }
    mkdirSync(join(dir, 'finished'), { recursive: true });
    if (!existsSync(identityFile)) writeFileAtomic(identityFile, `${JSON.stringify({ ...identity, config: run.config }, null, 2)}\n`);
    const finishedFile = (id: string): string => join(dir, 'finished', `${id}.json`);
    const checkpointFile = (id: string): string => join(dir, 'checkpoints', `${id}.bin`);
    return {
      dir,
      identity,
      checkpointFile,
      finished<RunRecord>(id: string, check?: (record: unknown) => string | undefined): RunRecord | undefined {
        const file = finishedFile(id);
        if (!ctx.resume || !existsSync(file)) return undefined;
        const envelope = readStateJson<Partial<FinishedEnvelope>>(file, 'finished-run record');
        const own = envelope.run;
        if (!own || typeof own !== 'object' || own.id !== id || !sameIdentity(own, identity) || !('record' in envelope)) {
          throw new Error(
            `finished-run record ${file} belongs to ${own && typeof own === 'object' ? `run ${String(own.id)} of ${describeIdentity(own)}` : 'no known run'}, not to ${id} of ${describeIdentity(identity)}; delete it (that run is then trained again), or pass --force to start over`,
          );
        }
        const problem = check?.(envelope.record);
        if (problem !== undefined) throw new Error(`finished-run record ${file} is damaged: ${problem}; delete it (that run is then trained again), or pass --force to start over`);
        return envelope.record as RunRecord;
      },
      markFinished: (id, record) => {
        writeFileAtomic(finishedFile(id), `${JSON.stringify({ run: { ...identity, id }, record } satisfies FinishedEnvelope, null, 2)}\n`);
        rmSync(checkpointFile(id), { force: true });
      },
      release: () => lock.release(),
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
