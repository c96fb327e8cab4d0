// `sift data verify <path> [--format F] [--json]`: read every record of a data set and report bad ones.
// Vision formats go to @sparse-ift/data-vision, text formats to @sparse-ift/data-text; both return a VerifyReport.
import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { availableParallelism } from 'node:os';
import { describeFileError, notRegularFileReason } from '@sparse-ift/files';
import { detectVisionFormats, verifyVisionDataset, VISION_FORMATS, type VerifyReport, type VisionFormat } from '@sparse-ift/data-vision';
import { formatOfFile, verifyTextDataset, type TextFormat } from '@sparse-ift/data-text';

export const TEXT_FORMATS: readonly TextFormat[] = ['arrow', 'parquet', 'tokens'];
export const DATA_FORMATS: readonly string[] = [...VISION_FORMATS, ...TEXT_FORMATS];

/** Exit codes: 0 all good, 1 bad records found, 2 usage error (bad path or format). */
export const EXIT_OK = 0;
export const EXIT_BAD_DATA = 1;
export const EXIT_USAGE = 2;

/**
 * Every format a path's file names say: vision formats, then text (.arrow, .parquet, .tokens), searched
 * two levels deep (HF caches nest one level per split/config). A folder can mix formats; each is verified.
 */
export function detectDataFormats(path: string): string[] {
  const vision: string[] = detectVisionFormats(path);
  if (!existsSync(path)) return vision;
  if (!statSync(path).isDirectory()) return [...vision, ...[formatOfFile(path)].filter((f) => f !== null)];
  const text = new Set<string>();
  const walk = (dir: string, depth: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // a folder this user may not read holds nothing to verify
    }
    for (const e of entries) {
      if (e.isDirectory()) {
        if (depth > 0 && !e.name.startsWith('.')) walk(join(dir, e.name), depth - 1);
      } else {
        const f = formatOfFile(e.name);
        if (f) text.add(f);
      }
    }
  };
  walk(path, 2);
  return [...vision, ...TEXT_FORMATS.filter((f) => text.has(f))];
}

/** The first of `detectDataFormats`. */
export function detectDataFormat(path: string): string | undefined {
  return detectDataFormats(path)[0];
}

/** Reports of several formats as one: files, records, tokens and bad records added up. */
function mergeReports(reports: VerifyReport[]): VerifyReport {
  if (reports.length === 1) return reports[0]!;
  const sum = (pick: (r: VerifyReport) => number | undefined): number | undefined =>
    reports.some((r) => pick(r) !== undefined) ? reports.reduce((a, r) => a + (pick(r) ?? 0), 0) : undefined;
  const classes = sum((r) => r.classes);
  const tokens = sum((r) => r.tokens);
  return {
    format: reports.map((r) => r.format).join('+'),
    files: reports.flatMap((r) => r.files),
    records: reports.reduce((a, r) => a + r.records, 0),
    ...(classes === undefined ? {} : { classes: Math.max(...reports.map((r) => r.classes ?? 0)) }),
    ...(tokens === undefined ? {} : { tokens }),
    bad: reports.flatMap((r) => r.bad),
  };
}

export interface DataVerifyOptions {
  format?: string;
  json?: boolean;
  /** Vision: decode every image (default true; --no-decode checks framing, CRCs and labels only). */
  decode?: boolean;
  /** Vision: decode worker threads (default min(4, cores); capped at the cores). */
  workers?: number;
  /** Labels must be below this (default: the format's, e.g. 10 for IDX, 100 for CIFAR-100, 1000 for ImageNet shards). */
  classes?: number;
}

export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

function humanReport(r: VerifyReport, out: (line: string) => void): void {
  out(`format:  ${r.format}`);
  out(`files:   ${r.files.length}`);
  for (const f of r.files.slice(0, 20)) out(`  ${f}`);
  if (r.files.length > 20) out(`  … and ${r.files.length - 20} more`);
  out(`records: ${r.records}`);
  if (r.classes !== undefined) out(`classes: ${r.classes}`);
  if (r.tokens !== undefined) out(`tokens:  ${r.tokens}`);
  out(`bad:     ${r.bad.length}`);
  for (const b of r.bad) out(`  ${b.file}: record ${b.record}: ${b.reason}`);
  out(r.bad.length === 0 ? `OK: ${r.records} records read and checked, none bad.` : `FAILED: ${r.bad.length} bad record(s).`);
}

/** Runs the verification and prints it; returns the exit code. */
export async function runDataVerify(path: string, opts: DataVerifyOptions, io: Output): Promise<number> {
  if (!existsSync(path)) {
    io.err(`sift data verify: ${path} does not exist.`);
    return EXIT_USAGE;
  }
  // A FIFO or device would block or fail deep inside a reader: refuse it before anything opens it.
  if (!statSync(path).isDirectory()) {
    const unreadable = notRegularFileReason(path);
    if (unreadable !== undefined) {
      io.err(`sift data verify: ${path} cannot be read: ${unreadable}; pass a data file or a folder.`);
      return EXIT_USAGE;
    }
  }
  const formats = opts.format !== undefined ? [opts.format] : detectDataFormats(path);
  if (formats.length === 0) {
    io.err(`sift data verify: cannot tell the format of ${path} from its file names; pass --format (${DATA_FORMATS.join('|')}).`);
    return EXIT_USAGE;
  }
  const unknown = formats.find((f) => !DATA_FORMATS.includes(f));
  if (unknown !== undefined) {
    io.err(`sift data verify: unknown format '${unknown}'; use one of ${DATA_FORMATS.join('|')}.`);
    return EXIT_USAGE;
  }
  const cores = availableParallelism();
  let workers = opts.workers;
  if (workers !== undefined && workers > cores) {
    io.err(`sift data verify: --workers ${workers} is more than this machine's ${cores} cores; using ${cores}.`);
    workers = cores;
  }
  const reports: VerifyReport[] = [];
  try {
    for (const format of formats) {
      reports.push(
        (TEXT_FORMATS as readonly string[]).includes(format)
          ? await verifyTextDataset(path, { format: format as TextFormat })
          : await verifyVisionDataset(path, { format: format as VisionFormat, decode: opts.decode, workers, numClasses: opts.classes }),
      );
    }
  } catch (err) {
    // Thrown (not reported) errors mean nothing could be read at all: no files of that format, a wrong path.
    io.err(`sift data verify: ${describeFileError(err, undefined, 'read') ?? (err as Error).message}`);
    return EXIT_USAGE;
  }
  const report = mergeReports(reports);
  if (opts.json) io.out(JSON.stringify(report));
  else humanReport(report, io.out);
  return report.bad.length > 0 ? EXIT_BAD_DATA : EXIT_OK;
}

function positiveInteger(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got '${v}'`);
    return n;
  };
}

/** Adds `data verify <path> [--format F] [--json]` to the `sift` program. */
export function registerDataCommand(program: Command): void {
  const data = program.command('data').description('Check data sets before a long run');
  data
    .command('verify <path>')
    .description('Read every record: check CRCs, sizes, labels and decode every image; report bad records by file and index')
    .option('--format <format>', `one of ${DATA_FORMATS.join('|')} (default: from the file names)`)
    .option('--no-decode', 'vision: skip decoding images (check framing, CRCs and labels only)')
    .option('--workers <n>', 'vision: decode worker threads (default: min(4, cores); at most the cores)', positiveInteger('--workers'))
    .option('--classes <n>', 'labels must be below n (default: 10 for idx, 100 for cifar, 1000 for tfrecord/wds)', positiveInteger('--classes'))
    .option('--json', 'print one JSON object {format, files, records, classes?, tokens?, bad: [{file, record, reason}]}')
    // Usage mistakes (missing path, unknown option, bad --workers) throw a CommanderError; `sift`'s main()
    // turns it into exit code 2 (and --help into 0), as for every other command.
    .exitOverride()
    .action(async (path: string, opts: DataVerifyOptions) => {
      process.exitCode = await runDataVerify(path, opts, {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      });
    });
}
