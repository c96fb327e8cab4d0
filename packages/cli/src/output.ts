/** Human lines go to stderr so stdout stays clean for --json and for piping tables. */
export function logLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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
