#!/usr/bin/env bash
# Packs @sparse-ift/core, installs the tarball into a fresh tf.js project outside the workspace, and
# trains a Sparse Wide dense layer there for a few steps with RigL. Proves the published package works
# on its own (exports, types, files, peer dependencies). Needs the npm registry.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && npx tsc -b packages/core/tsconfig.json)
tarball="$(cd "$root/packages/core" && npm pack --silent --pack-destination "$work" | tail -n 1)"
cd "$work"
npm init -y >/dev/null
npm pkg set type=module
tfv=4.22.0
npm i --no-audit --no-fund --silent "./$tarball" @tensorflow/tfjs-core@$tfv @tensorflow/tfjs-layers@$tfv @tensorflow/tfjs-backend-cpu@$tfv
cat > use.mjs <<'JS'
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { MaskedDense, collectMaskedParams, sparseWideFactor, SGD, RigLUpdater, MaskUpdateSchedule, sparseTrainStep, realisedDensity } from '@sparse-ift/core';

await tf.setBackend('cpu');
const s = 0.75;
const hidden = Math.round(32 * sparseWideFactor(s)); // Sparse Wide: 32 → 64 units at s = 0.75
const input = tfl.input({ shape: [16] });
const h = new MaskedDense({ units: hidden, sparsity: s, role: 'wide-weight', activation: 'relu', maskSeed: 1 }).apply(input);
const out = tfl.layers.dense({ units: 1 }).apply(h);
const model = tfl.model({ inputs: input, outputs: out });
const maskedParams = collectMaskedParams(model);
const params = model.trainableWeights.map((w) => w.read());
const x = tf.randomNormal([64, 16], 0, 1, 'float32', 1);
const y = tf.sum(x, 1, true);
const lossFn = () => tf.losses.meanSquaredError(y, model.apply(x));
const optimizer = new SGD(params, { learningRate: 0.01, momentum: 0.9 });
const updater = new RigLUpdater({ schedule: new MaskUpdateSchedule({ totalSteps: 40, frequency: 10 }) });
let first, last;
for (let t = 0; t < 40; t++) {
  const { loss } = sparseTrainStep({ params, maskedParams, lossFn, optimizer, updater });
  if (t === 0) first = loss;
  last = loss;
}
const density = realisedDensity(maskedParams).overall;
console.log(JSON.stringify({ hidden, first, last, density }));
if (!(last < first)) throw new Error(`loss did not fall: ${first} -> ${last}`);
if (Math.abs(density - (1 - s)) > 0.01) throw new Error(`realised density ${density}, expected ${1 - s}`);
console.log('pack-check: @sparse-ift/core installed from its tarball and trained with RigL');
JS
node use.mjs
