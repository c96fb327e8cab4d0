/** Human lines go to stderr so stdout stays clean for --json and for piping tables. */
export function logLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Messages shorter than this ("none", "not found") are too generic to count as already said. */
const SAID_MIN_LENGTH = 20;

/** A line's message: the text after its first `label: ` (the whole line when it has none). */
function message(line: string): string {
  const at = line.indexOf(': ');
  return (at < 0 ? line : line.slice(at + 2)).trim();
}

/**
 * Lines for a person, each fact said once: a line whose message (the text after its `label: `, at least
 * 20 characters) is already part of an earlier kept line adds nothing and is dropped. Generic over where
 * lines come from (backend selection, GPU probes, native kernels), so new sources need no rule of their own.
 */
export function sayOnce(lines: readonly string[]): string[] {
  const kept: string[] = [];
  for (const line of lines) {
    const said = message(line);
    if (said.length >= SAID_MIN_LENGTH && kept.some((k) => k.includes(said))) continue;
    kept.push(line);
  }
  return kept;
}

/**
 * A reader that stops early (`sift list | head -1`) closes the pipe; the next write fails with EPIPE,
 * asynchronously, on the stream. That is the reader's choice, not an error: end quietly with exit 0.
 */
export function endQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
}
