// `sift data verify <path> [--format F] [--json]`: read every record of a data set and report bad ones.
// Vision formats go to @sparse-ift/data-vision, text formats to @sparse-ift/data-text; both return a VerifyReport.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { detectVisionFormat, verifyVisionDataset, VISION_FORMATS, type VerifyReport, type VisionFormat } from '@sparse-ift/data-vision';
import { formatOfFile, verifyTextDataset, type TextFormat } from '@sparse-ift/data-text';

export const TEXT_FORMATS: readonly TextFormat[] = ['arrow', 'parquet', 'tokens'];
export const DATA_FORMATS: readonly string[] = [...VISION_FORMATS, ...TEXT_FORMATS];

/** Exit codes: 0 all good, 1 bad records found, 2 usage error (bad path or format). */
export const EXIT_OK = 0;
export const EXIT_BAD_DATA = 1;
export const EXIT_USAGE = 2;

/** The format a path's file names say: vision formats first, then text (.arrow, .parquet, .tokens). */
export function detectDataFormat(path: string): string | undefined {
  const vision = detectVisionFormat(path);
  if (vision) return vision;
  if (!existsSync(path)) return undefined;
  if (statSync(path).isFile()) return formatOfFile(path) ?? undefined;
  // A folder: the first data file found, two levels deep (HF caches nest one level per split/config).
  const walk = (dir: string, depth: number): string | undefined => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isFile()) {
        const f = formatOfFile(e.name);
        if (f) return f;
      } else if (e.isDirectory() && depth > 0 && !e.name.startsWith('.')) {
        const f = walk(join(dir, e.name), depth - 1);
        if (f) return f;
      }
    }
    return undefined;
  };
  return walk(path, 2);
}

export interface DataVerifyOptions {
  format?: string;
  json?: boolean;
  /** Vision: decode every image (default true; --no-decode checks framing, CRCs and labels only). */
  decode?: boolean;
  /** Vision: decode worker threads (default min(4, cores)). */
  workers?: number;
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
  const format = opts.format ?? detectDataFormat(path);
  if (!format) {
    io.err(`sift data verify: cannot tell the format of ${path} from its file names; pass --format (${DATA_FORMATS.join('|')}).`);
    return EXIT_USAGE;
  }
  if (!DATA_FORMATS.includes(format)) {
    io.err(`sift data verify: unknown format '${format}'; use one of ${DATA_FORMATS.join('|')}.`);
    return EXIT_USAGE;
  }
  let report: VerifyReport;
  try {
    report = (TEXT_FORMATS as readonly string[]).includes(format)
      ? await verifyTextDataset(path, { format: format as TextFormat })
      : await verifyVisionDataset(path, { format: format as VisionFormat, decode: opts.decode, workers: opts.workers });
  } catch (err) {
    // Thrown (not reported) errors mean nothing could be read at all: no files of that format, a wrong path.
    io.err(`sift data verify: ${(err as Error).message}`);
    return EXIT_USAGE;
  }
  if (opts.json) io.out(JSON.stringify(report));
  else humanReport(report, io.out);
  return report.bad.length > 0 ? EXIT_BAD_DATA : EXIT_OK;
}

/** Adds `data verify <path> [--format F] [--json]` to the `sift` program. */
export function registerDataCommand(program: Command): void {
  const data = program.command('data').description('Check data sets before a long run');
  data
    .command('verify <path>')
    .description('Read every record: check CRCs, sizes, labels and decode every image; report bad records by file and index')
    .option('--format <format>', `one of ${DATA_FORMATS.join('|')} (default: from the file names)`)
    .option('--no-decode', 'vision: skip decoding images (check framing, CRCs and labels only)')
    .option('--workers <n>', 'vision: decode worker threads (default: min(4, cores))', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--workers must be a positive integer, got '${v}'`);
      return n;
    })
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
