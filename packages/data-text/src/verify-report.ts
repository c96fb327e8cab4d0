// The report shape shared with `@sparse-ift/data-vision` (its `src/verify-report.ts`) and printed by
// `sift data verify`. Declared here structurally, so this package does not depend on the vision one.

/** One record that failed a check: which file, which record (0-based, in file order) and why. */
export interface BadRecord {
  file: string;
  record: number;
  reason: string;
}

export interface VerifyReport {
  /** The format read: arrow | parquet | tokens (text). */
  format: string;
  files: string[];
  /** Records read (good + bad). */
  records: number;
  /** Distinct labels seen (vision only). */
  classes?: number;
  /** Tokens read (text): whitespace-separated words of the text column, or token ids of a token cache. */
  tokens?: number;
  bad: BadRecord[];
}
