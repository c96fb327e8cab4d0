// quick probe: per-run time and accuracy for a few rows at a given width, via the built packages
import { initBackend } from '@sparse-ift/backend';
import '@sparse-ift/repro-fashion-mnist';
import { PRESETS } from '@sparse-ift/repro-fashion-mnist';
import { getExperiment } from '@sparse-ift/train';
const [width, subset, epochs, sparsities] = [Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]), JSON.parse(process.argv[5])];
PRESETS.probe = { ...PRESETS.default, width, trainSubset: subset, epochs, sparsities, sparseWideMethods: false, description: 'probe' };
const backend = await initBackend({ training: true });
const e = getExperiment('fashion-mnist');
e.presets.probe = { description: 'probe', defaultSeeds: 1 };
const out = `/tmp/probe-${width}-${subset}-${epochs}-${Date.now()}`;
const t0 = Date.now();
const o = await e.run({ preset: 'probe', seeds: 1, outDir: out, resume: false, force: false, backend: { ...backend }, backendLine: '', progress: false, log: (l) => { if (l.startsWith('[')) console.error(l); } });
console.log(o.table); console.log('total s', (Date.now() - t0) / 1000);
