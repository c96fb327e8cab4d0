/**
 * The experiment registry: each reproduction package calls `registerExperiment` when imported, and the
 * `sift` CLI lists and runs what is registered.
 */

export interface PresetInfo {
  description: string;
  /** Seeds run when the user does not pass --seeds. */
  defaultSeeds: number;
}

/** What the CLI hands an experiment's `run`. */
export interface ExperimentContext {
  preset: string;
  /** Number of seeds (0, 1, …, seeds − 1). */
  seeds: number;
  /** Folder for results, checkpoints and TensorBoard logs (created). */
  outDir: string;
  /** Reuse checkpoints and finished runs found in outDir. */
  resume: boolean;
  /** Overwrite earlier results files instead of writing beside them. */
  force: boolean;
  /** Folder with the data set files, when the user gave one. */
  dataDir?: string;
  /** The backend in use, as one line (printed and stored in results). */
  backendLine: string;
  /** The backend's structured description, stored in results files. */
  backend: { name: string } & Record<string, unknown>;
  /** Progress bar allowed (a TTY and no --json). */
  progress: boolean;
  /** Human-readable progress lines (stderr). */
  log: (line: string) => void;
}

export interface ExperimentOutcome {
  /** Files written, by role (results.json, results.md, plot, …). */
  files: Record<string, string>;
  /** The results table as Markdown, printed at the end. */
  table: string;
  /** Machine-readable summary (printed with --json). */
  summary: unknown;
}

export interface Experiment {
  name: string;
  description: string;
  presets: Record<string, PresetInfo>;
  defaultPreset: string;
  run(context: ExperimentContext): Promise<ExperimentOutcome>;
}

const registry = new Map<string, Experiment>();

export function registerExperiment(experiment: Experiment): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(experiment.name)) {
    throw new Error(`experiment name '${experiment.name}' must be lower-case letters, digits and dashes`);
  }
  if (!(experiment.defaultPreset in experiment.presets)) {
    throw new Error(`experiment '${experiment.name}': default preset '${experiment.defaultPreset}' is not one of its presets`);
  }
  const existing = registry.get(experiment.name);
  if (existing && existing !== experiment) throw new Error(`experiment '${experiment.name}' is registered twice`);
  registry.set(experiment.name, experiment);
}

export function listExperiments(): Experiment[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function getExperiment(name: string): Experiment | undefined {
  return registry.get(name);
}
