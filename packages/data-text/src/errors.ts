/** A data file that cannot be read as asked. The message names the file (and record) and what to do. */
export class TextDataError extends Error {
  readonly file: string;
  /** 0-based record index in the file, when the problem is one record. */
  readonly record: number | undefined;

  constructor(file: string, message: string, record?: number) {
    super(record === undefined ? `${file}: ${message}` : `${file}: record ${record}: ${message}`);
    this.name = 'TextDataError';
    this.file = file;
    this.record = record;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
