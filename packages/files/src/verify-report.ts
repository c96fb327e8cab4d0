// What `verifyVisionDataset` (@sparse-ift/data-vision) and `verifyTextDataset` (@sparse-ift/data-text)
// return and `sift data verify` prints: the one declaration both data packages share.

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
  /** Tokens read (text): whitespace-separated words of a text column, or the ids of a token cache. */
  tokens?: number;
  bad: BadRecord[];
}
