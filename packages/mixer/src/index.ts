// @sparse-ift/mixer: MLP-Mixers (Mixer-S/16, Mixer-B/16, a small CPU config), dense or under any
// Sparse-IFT family. Importing the package registers them with @sparse-ift/core's model registry.
export { MIXER_S16, MIXER_B16, MIXER_MINI_28, MIXER_ARCHS, resolveMixer, mixerFlopBudget, type MixerArch, type MixerOptions, type ResolvedMixer } from './config.js';
export { mixerOps } from './ops.js';
export { buildMixer, buildResolvedMixer } from './model.js';
export { MIXER_DEFINITIONS, mixerDefinition, registerMixers, toMixerOptions } from './register.js';
import { registerMixers } from './register.js';

registerMixers();
