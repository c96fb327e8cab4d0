// The sparse-vs-dense choices of the masked products (kernels/sparse.ts), kept in a file so that every
// process on a machine takes the paths the first one measured. The sparse and dense kernels sum in
// different orders; a choice re-timed in each process could come out differently from one run to the next
// and the runs would then differ by rounding. With the file, the second run of anything takes the first
// run's paths and repeats its numbers bit for bit.
//
// - Where: $SIFT_SPARSE_CACHE (a file; `off`: no file, every process measures), else
//   $XDG_CACHE_HOME/sparse-ift/sparse-choices.json, else ~/.cache/sparse-ift/sparse-choices.json.
// - Choices are grouped by machine: CPU model, sparse-kernel ISA, threads, convolution library, sparse
//   tuning and the addon (package version and a hash of its binary). A rebuilt addon, another thread
//   count or another CPU measures afresh; the others' choices stay in the file.
// - Written atomically (@sparse-ift/files writeFileAtomic) after each new measurement, merged with what
//   other processes wrote meanwhile. A file that cannot be read as choices is ignored with one warning and
//   moved aside to `<file>.invalid` at the next write; nothing here ever fails the computation.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '@sparse-ift/files';
import type { SparsePath } from './kernels/sparse.js';

export const SPARSE_CACHE_ENV = 'SIFT_SPARSE_CACHE';
const FORMAT = 'sparse-ift sparse-kernel choices';
const VERSION = 1;

/** The cache file for this environment, or undefined when `SIFT_SPARSE_CACHE=off`. */
export function sparseChoiceCacheFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env[SPARSE_CACHE_ENV]?.trim();
  if (set === 'off') return undefined;
  if (set) return set;
  const base = env['XDG_CACHE_HOME']?.trim() || join(homedir(), '.cache');
  return join(base, 'sparse-ift', 'sparse-choices.json');
}

/** What the choices of one machine were measured on; any difference measures afresh. */
export interface SparseMachine {
  cpu: string;
  isa: string;
  threads: number;
  convLibrary: string;
  /** blockKb/partialsKb/tileVectors of the sparse kernels' blocking. */
  tuning: string;
  /** "<package version> <first 16 hex digits of the binary's sha256>". */
  addon: string;
}

export function machineKey(m: SparseMachine): string {
  return `${m.cpu} | ${m.isa} | ${m.threads} threads | ${m.convLibrary} | tuning ${m.tuning} | addon ${m.addon}`;
}

let addonIdentity: { path: string; id: string } | undefined;

/** The addon's package version and a hash of its binary (read once per process). */
export function addonVersion(addonPath: string): string {
  if (addonIdentity?.path === addonPath) return addonIdentity.id;
  const here = dirname(fileURLToPath(import.meta.url));
  let version = 'unknown';
  try {
    // src/native-backend or dist/native-backend: the package root is two levels up
    version = (JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    /* a bundled copy without its package.json: the binary's hash still tells builds apart */
  }
  let hash = 'unknown';
  try {
    hash = createHash('sha256').update(readFileSync(addonPath)).digest('hex').slice(0, 16);
  } catch {
    /* loaded from elsewhere: the version alone */
  }
  addonIdentity = { path: addonPath, id: `${version} ${hash}` };
  return addonIdentity.id;
}

let cpu: string | undefined;

export function cpuModel(): string {
  cpu ??= cpus()[0]?.model.trim() || 'unknown CPU';
  return cpu;
}

/** One measured choice, as stored. */
export interface StoredChoice {
  path: SparsePath;
  sparseMs: number;
  denseMs: number;
  /** ISO time of the measurement. */
  measured: string;
}

interface MachineEntry extends SparseMachine {
  choices: Record<string, StoredChoice>;
}

interface CacheFile {
  format: string;
  version: number;
  machines: Record<string, MachineEntry>;
}

const warned = new Set<string>();

function warnOnce(file: string, message: string): void {
  if (warned.has(file)) return;
  warned.add(file);
  console.warn(`sparse-ift: ${message}`);
}

/** Files warned about already, so that a test can see a warning again. */
export function forgetCacheWarnings(): void {
  warned.clear();
}

function isChoice(c: unknown): c is StoredChoice {
  const o = c as Partial<StoredChoice> | null;
  return typeof o === 'object' && o !== null && (o.path === 'sparse' || o.path === 'dense')
    && Number.isFinite(o.sparseMs) && Number.isFinite(o.denseMs) && typeof o.measured === 'string';
}

/** The file's contents, or why they are not choices. */
function parse(text: string): CacheFile | { invalid: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { invalid: `not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const f = data as Partial<CacheFile> | null;
  if (typeof f !== 'object' || f === null || f.format !== FORMAT) return { invalid: `not a sparse-ift choices file (no "format": "${FORMAT}")` };
  if (f.version !== VERSION) return { invalid: `version ${String(f.version)}, this build reads version ${VERSION}` };
  if (typeof f.machines !== 'object' || f.machines === null) return { invalid: 'no "machines" object' };
  for (const [key, m] of Object.entries(f.machines)) {
    if (typeof m?.choices !== 'object' || m.choices === null || !Object.values(m.choices).every(isChoice)) {
      return { invalid: `machine "${key}" has malformed choices` };
    }
  }
  return f as CacheFile;
}

/** The stored choices of one machine, read from and written to one file (or none: `off`). */
export class SparseChoiceCache {
  private choices = new Map<string, StoredChoice>();
  /** mtime and size of the file as last read: a miss re-reads it only when another process wrote it. */
  private seen = '';
  /** Why the file on disk is not usable (it is moved aside at the next write). */
  private invalid: string | undefined;
  private unwritable = false;
  readonly key: string;

  constructor(readonly file: string | undefined, readonly machine: SparseMachine) {
    this.key = machineKey(machine);
    this.refresh();
  }

  /** The stored choice for `key`, re-reading the file once if another process may have added it. */
  get(key: string): StoredChoice | undefined {
    const hit = this.choices.get(key);
    if (hit || !this.file) return hit;
    this.refresh();
    return this.choices.get(key);
  }

  /** Number of choices stored for this machine. */
  get size(): number {
    return this.choices.size;
  }

  /** Keep a new measurement: in memory, and in the file merged with what is there now. */
  put(key: string, choice: StoredChoice): void {
    this.choices.set(key, choice);
    if (!this.file || this.unwritable) return;
    const current = this.read();
    let data: CacheFile = { format: FORMAT, version: VERSION, machines: {} };
    if (current && 'invalid' in current) {
      const aside = `${this.file}.invalid`;
      try {
        renameSync(this.file, aside);
        console.warn(`sparse-ift: moved the unreadable sparse-kernel choice cache to ${aside}`);
      } catch {
        /* vanished meanwhile: nothing to keep */
      }
    } else if (current) {
      data = current;
    }
    const entry = (data.machines[this.key] ??= { ...this.machine, choices: {} });
    for (const [k, c] of this.choices) entry.choices[k] ??= c; // a choice another process stored first stays
    try {
      writeFileAtomic(this.file, `${JSON.stringify(data, null, 1)}\n`);
      this.seen = this.stamp();
      this.invalid = undefined;
    } catch (e) {
      this.unwritable = true;
      warnOnce(this.file, `cannot write the sparse-kernel choice cache (${e instanceof Error ? e.message : String(e)}); choices are measured in each process, so reruns may take other kernels. Set ${SPARSE_CACHE_ENV} to a writable file, or 'off'.`);
    }
  }

  /** One line: where the choices come from. */
  describe(): string {
    if (!this.file) return `choice cache off (${SPARSE_CACHE_ENV}=off): measured in each process`;
    const state = this.invalid ? `ignored: ${this.invalid}` : `${this.choices.size} choices for this machine`;
    return `choice cache ${this.file} (${state})`;
  }

  private stamp(): string {
    try {
      const s = statSync(this.file!);
      return `${s.mtimeMs} ${s.size}`;
    } catch {
      return '';
    }
  }

  private read(): CacheFile | { invalid: string } | undefined {
    if (!this.file || !existsSync(this.file)) return undefined;
    try {
      return parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      return { invalid: `unreadable (${e instanceof Error ? e.message : String(e)})` };
    }
  }

  /** Re-read the file when it changed since last read. */
  private refresh(): void {
    const stamp = this.stamp();
    if (stamp === this.seen) return;
    this.seen = stamp;
    const data = this.read();
    if (!data) return;
    if ('invalid' in data) {
      this.invalid = data.invalid;
      warnOnce(this.file!, `ignoring the sparse-kernel choice cache ${this.file}: ${data.invalid}. The choices are measured again and the file is replaced (kept as ${this.file}.invalid).`);
      return;
    }
    this.invalid = undefined;
    const mine = data.machines[this.key];
    if (mine) for (const [k, c] of Object.entries(mine.choices)) if (!this.choices.has(k)) this.choices.set(k, c);
  }
}
