// @sparse-ift/core's fused GELU in WGSL, exact (erf) or tanh-approximated, forward and gradient as one
// elementwise pass each. WGSL has no erf: the same Chebyshev fit of erfc as core's errorFunction
// (Numerical Recipes, |error| < 1.2e-7).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { GELU, GELU_GRAD, type GeluAttrs } from '@sparse-ift/core';
import { elementwiseProgram, run, view } from './program.js';

const HELPERS = `
  fn erfApprox(v : f32) -> f32 {
    let z = abs(v);
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
      t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return select(r - 1.0, 1.0 - r, v >= 0.0);
  }
  // tanh from exp, clamped: some drivers' tanh returns NaN for large |v|.
  fn tanhSafe(v : f32) -> f32 {
    let e = exp(2.0 * clamp(v, -15.0, 15.0));
    return (e - 1.0) / (e + 1.0);
  }`;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI).toPrecision(9);
const INV_SQRT_2PI = (1 / Math.sqrt(2 * Math.PI)).toPrecision(9);
const SQRT1_2 = Math.SQRT1_2.toPrecision(9);

function program(key: string, names: string[], shape: number[], body: string) {
  const p = elementwiseProgram(key, names, shape, '', body);
  const user = p.getUserCode;
  p.getUserCode = () => HELPERS + user();
  return p;
}

const forward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { x } = inputs as { x: TensorInfo };
  const { approximate } = attrs as unknown as GeluAttrs;
  const n = x.shape.reduce((a, d) => a * d, 1);
  const body = approximate === 'tanh'
    ? `let v = x[index]; result[index] = 0.5 * v * (1.0 + tanhSafe(${SQRT_2_OVER_PI} * (v + 0.044715 * v * v * v)));`
    : `let v = x[index]; result[index] = 0.5 * v * (1.0 + erfApprox(v * ${SQRT1_2}));`;
  const y = run(backend, program(`sparseIftGelu_${approximate}`, ['x'], [n], body), [view(x, [n])], []);
  return view(y, x.shape);
};

const backward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const { approximate } = attrs as unknown as GeluAttrs;
  const n = x.shape.reduce((a, d) => a * d, 1);
  const body = approximate === 'tanh'
    ? `let v = x[index];
       let t = tanhSafe(${SQRT_2_OVER_PI} * (v + 0.044715 * v * v * v));
       result[index] = dy[index] * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * ${SQRT_2_OVER_PI} * (1.0 + 3.0 * 0.044715 * v * v));`
    : `let v = x[index];
       result[index] = dy[index] * (0.5 * (1.0 + erfApprox(v * ${SQRT1_2})) + v * exp(-0.5 * v * v) * ${INV_SQRT_2PI});`;
  const dx = run(backend, program(`sparseIftGeluGrad_${approximate}`, ['dy', 'x'], [n], body), [view(dy, [n]), view(x, [n])], []);
  return view(dx, x.shape);
};

export const geluWebGPUConfig: KernelConfig = { kernelName: GELU, backendName: 'webgpu', kernelFunc: forward };
export const geluGradWebGPUConfig: KernelConfig = { kernelName: GELU_GRAD, backendName: 'webgpu', kernelFunc: backward };
