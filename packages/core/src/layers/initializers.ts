/**
 * Initializers and activations by name, with the Keras-style `{className, config}` serialization
 * tfjs-layers uses, built only on public tfjs APIs (tfjs-layers keeps `getInitializer` and
 * `getActivation` internal, so we look classes up in tfjs-core's `SerializationMap`, where
 * tfjs-layers registers them).
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { initializers } from '@tensorflow/tfjs-layers';
import { tensorSeed } from '../rng.js';

/** tfjs-layers' Initializer type (the class itself is not exported). */
export type Initializer = ReturnType<typeof initializers.ones>;

/** tfjs-layers initializer identifiers, plus this package's `kaimingNormal` (PyTorch semantics). */
export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heNormal'
  | 'heUniform'
  | 'leCunNormal'
  | 'leCunUniform'
  | 'orthogonal'
  | 'randomNormal'
  | 'randomUniform'
  | 'truncatedNormal'
  | 'varianceScaling'
  | 'kaimingNormal';

/** An initializer by name, or an instance (`initializers.varianceScaling({...})`, `kaimingNormal()`). */
export type InitializerSpec = InitializerName | Initializer;

// tfjs-layers' INITIALIZER_IDENTIFIER_REGISTRY_SYMBOL_MAP (not exported): identifier → class name.
const INITIALIZER_CLASS_NAMES: Record<InitializerName, string> = {
  zeros: 'Zeros',
  ones: 'Ones',
  glorotUniform: 'GlorotUniform',
  glorotNormal: 'GlorotNormal',
  heNormal: 'HeNormal',
  heUniform: 'HeUniform',
  leCunNormal: 'LeCunNormal',
  leCunUniform: 'LeCunUniform',
  orthogonal: 'Orthogonal',
  randomNormal: 'RandomNormal',
  randomUniform: 'RandomUniform',
  truncatedNormal: 'TruncatedNormal',
  varianceScaling: 'VarianceScaling',
  kaimingNormal: 'KaimingNormal',
};

export interface KaimingNormalArgs {
  /** Which fan the variance is divided by. PyTorch ResNets use fan_out. Default 'fanOut'. */
  mode?: 'fanIn' | 'fanOut';
  /** Gain; √2 for ReLU (PyTorch's `kaiming_normal_(nonlinearity='relu')`). */
  gain?: number;
  seed?: number | null;
}

// tfjs-layers does not export its Initializer base class, but tfjs layers only accept initializers
// that are `instanceof` it; every built-in initializer's class extends it directly.
const InitializerBase = Object.getPrototypeOf(initializers.zeros().constructor) as abstract new () => Initializer;
if (!(initializers.ones() instanceof InitializerBase) || !(InitializerBase.prototype instanceof serialization.Serializable)) {
  throw new Error('@sparse-ift/core: cannot find the tfjs-layers Initializer base class; is @tensorflow/tfjs-layers 4.x installed once?');
}

/**
 * PyTorch's `kaiming_normal_`: N(0, gain²/fan), an untruncated normal. tfjs'
 * `varianceScaling({scale: 2, mode: 'fanOut', distribution: 'normal'})` computes the same fan
 * (Cout·kh·kw for a [kh, kw, Cin, Cout] kernel) but samples a normal truncated at 2σ without
 * re-scaling, so its standard deviation is about 0.88 of PyTorch's. This class keeps PyTorch's.
 */
export class KaimingNormal extends InitializerBase {
  static className = 'KaimingNormal';
  readonly mode: 'fanIn' | 'fanOut';
  readonly gain: number;
  readonly seed: number | null;

  constructor(args: KaimingNormalArgs = {}) {
    super();
    this.mode = args.mode ?? 'fanOut';
    if (this.mode !== 'fanIn' && this.mode !== 'fanOut') {
      throw new Error(`KaimingNormal mode must be 'fanIn' or 'fanOut', got '${String(this.mode)}'`);
    }
    this.gain = args.gain ?? Math.SQRT2;
    this.seed = args.seed ?? null;
  }

  override apply(shape: number[], dtype?: tf.DataType): tf.Tensor {
    const [fanIn, fanOut] = computeFans(shape);
    const std = this.gain / Math.sqrt(Math.max(1, this.mode === 'fanIn' ? fanIn : fanOut));
    return tf.randomNormal(shape, 0, std, dtype === 'int32' ? 'int32' : 'float32', this.seed ?? undefined);
  }

  override getConfig(): serialization.ConfigDict {
    return { mode: this.mode, gain: this.gain, seed: this.seed };
  }
}
// fromConfig is inherited from Serializable (the base's static side is typed loosely above).
serialization.registerClass(KaimingNormal as unknown as serialization.SerializableConstructor<KaimingNormal>);

/** `kaimingNormal({mode: 'fanOut'})` as a tfjs-layers Initializer, usable in any tfjs layer too. */
export function kaimingNormal(args: KaimingNormalArgs = {}): Initializer {
  return new KaimingNormal(args);
}

/** Fans of a channels-last kernel, as tfjs and PyTorch define them: [kh,kw,Cin,Cout] → (kh·kw·Cin, kh·kw·Cout). */
export function computeFans(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  if (shape.length >= 3) {
    const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    return [shape[shape.length - 2]! * receptive, shape[shape.length - 1]! * receptive];
  }
  const n = Math.sqrt(shape.reduce((a, b) => a * b, 1));
  return [n, n];
}

function deserializeRegistered(className: string, config: serialization.ConfigDict, what: string): unknown {
  const entry = serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) {
    throw new Error(`unknown ${what} '${className}': it is not registered with tfjs serialization`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config);
}

/** Name, instance or serialized `{className, config}` → an Initializer instance. */
export function resolveInitializer(spec: InitializerSpec | serialization.ConfigDict): Initializer {
  if (typeof spec === 'string') {
    const className = (INITIALIZER_CLASS_NAMES as Record<string, string>)[spec];
    if (className === undefined) {
      throw new Error(
        `unknown initializer '${spec}'; use one of ${Object.keys(INITIALIZER_CLASS_NAMES).join(', ')} or pass an instance`,
      );
    }
    return deserializeRegistered(className, {}, 'initializer') as Initializer;
  }
  if (typeof (spec as Initializer).apply === 'function') return spec as Initializer;
  const dict = spec as serialization.ConfigDict;
  if (typeof dict['className'] !== 'string') {
    throw new Error(`an initializer config needs a string className, got ${JSON.stringify(spec)}`);
  }
  return deserializeRegistered(
    dict['className'],
    (dict['config'] ?? {}) as serialization.ConfigDict,
    'initializer',
  ) as Initializer;
}

/** An Initializer → `{className, config}`, the format tfjs-layers writes into model JSON. */
export function serializeInitializer(init: Initializer): serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

/** Activations tfjs-layers registers (by their registered class name). */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'elu'
  | 'selu'
  | 'sigmoid'
  | 'hard_sigmoid'
  | 'softplus'
  | 'softsign'
  | 'tanh'
  | 'softmax'
  | 'swish'
  | 'mish'
  | 'gelu'
  | 'gelu_new';

export interface ActivationFn {
  apply(x: tf.Tensor): tf.Tensor;
}

/**
 * An activation by name. Accepts the camelCase forms the model JSON round trip produces
 * ('geluNew', 'hardSigmoid') as well as the registered snake_case names.
 */
export function resolveActivation(name: string): ActivationFn {
  return deserializeRegistered(canonicalActivationName(name), {}, 'activation') as ActivationFn;
}

/** The registered snake_case name: the model JSON round trip turns 'gelu_new' into 'geluNew'. */
export function canonicalActivationName(name: string): ActivationName {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() as ActivationName;
}

/**
 * The initializer `spec` with its seed set to `seed` (a fresh instance; `spec` is left as it is).
 * Initializers without a seed (zeros, ones, ...) come back unchanged; `seed` undefined keeps `spec`.
 */
export function seededInitializer(spec: InitializerSpec, seed: number | undefined): Initializer {
  const init = resolveInitializer(spec);
  if (seed === undefined) return init;
  const config = init.getConfig();
  if (!('seed' in config)) return init;
  return deserializeRegistered(init.getClassName(), { ...config, seed }, 'initializer') as Initializer;
}

/**
 * PyTorch's `nn.Linear` default init, kaiming_uniform(a = √5): U(±1/√fan_in) for the weight and the
 * bias, seeded as tensor 0 of a layer (docs/seeding.md). What the official ResNets' FC and small heads use.
 */
export function torchLinearInit(fanIn: number, weightSeed?: number): { kernelInitializer: Initializer; biasInitializer: Initializer } {
  const bound = 1 / Math.sqrt(fanIn);
  const uniform = (seed: number | undefined) => initializers.randomUniform({ minval: -bound, maxval: bound, ...(seed === undefined ? {} : { seed }) });
  return { kernelInitializer: uniform(tensorSeed(weightSeed, 0, 0)), biasInitializer: uniform(tensorSeed(weightSeed, 0, 1)) };
}
