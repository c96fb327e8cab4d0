/** A bad record in a data file: names the file and the 0-based record index (in file order). */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly record: number,
    readonly reason: string,
    /** True when the rest of the file cannot be read (framing lost, truncation). */
    readonly fatalForFile = false,
  ) {
    super(`${file}: record ${record}: ${reason}`);
    this.name = 'DataError';
  }
}
