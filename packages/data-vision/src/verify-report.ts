// The report shape shared by `verifyVisionDataset` and `@sparse-ift/data-text`'s `verifyTextDataset`,
// printed by `sift data verify`.

/** One record that failed a check: which file, which record (0-based, in file order) and why. */
export interface BadRecord {
  file: string;
  record: number;
  reason: string;
}

export interface VerifyReport {
  /** The format read: tfrecord | wds | cifar | idx | folder | arrow | parquet | tokens. */
  format: string;
  files: string[];
  /** Records read (good + bad). */
  records: number;
  /** Distinct labels seen (vision). */
  classes?: number;
  /** Tokens read (text). */
  tokens?: number;
  bad: BadRecord[];
}
