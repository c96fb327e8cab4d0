/** Human lines go to stderr so stdout stays clean for --json and for piping tables. */
export function logLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
