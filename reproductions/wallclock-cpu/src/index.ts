// @sparse-ift/repro-wallclock-cpu: registers the `wallclock-cpu` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { WALLCLOCK_CPU } from './experiment.js';

export { WALLCLOCK_CPU, requireNativeBackend } from './experiment.js';
export { PRESETS, SPARSE_FAMILIES, resolveConfig, type ModelPlan, type WallclockPreset, type WallclockConfig } from './presets.js';
export { describeMachine, timeModel, PATH_LABEL, type TimedPath, type TimedRow, type InferenceTime, type Machine, type ModelTimings } from './measure.js';
export { modelTable, resultsMarkdown, type WallclockResults } from './report.js';
export { TIMED_MODELS, buildTimedModel, medianSeconds, timeInference, timeTrainingStep, type Timing, type TimedModel, type TimedModelName } from './timing.js';
export { TORCH_TWIN_SCRIPT, pytorchUnavailable, runTorchTwins, type TorchJob, type TorchRun } from './pytorch.js';

registerExperiment(WALLCLOCK_CPU);
