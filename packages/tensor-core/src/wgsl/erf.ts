import { EXP_WGSL } from "./exp.js";

/**
 * erf for exact GELU; WGSL has no erf. Coefficients come from tools/fit_erf.py (least-squares fits, max abs error
 * 1.4e-7 in float32 against math.erf on [-6, 6]); tanh-GELU would be a different function.
 */
export const ERF_WGSL = `
// Branch-free vec4 form: fused epilogues apply it once per 4 outputs, which keeps unrolled kernels small.
fn erf4(x: vec4<f32>) -> vec4<f32> {
  let a = abs(x);
  let t = x * x;
  var q = vec4<f32>(1.0648614461e-06);
  q = q * t - 1.3933747899e-05;
  q = q * t + 1.1960674819e-04;
  q = q * t - 8.5430020057e-04;
  q = q * t + 5.2238015621e-03;
  q = q * t - 2.6866138216e-02;
  q = q * t + 1.1283791378e-01;
  q = q * t - 3.7612638894e-01;
  q = q * t + 1.1283791671e+00;
  let s = 1.0 / max(a, vec4<f32>(1.0));
  var r = vec4<f32>(-1.2573818117e-02);
  r = r * s + 1.2253999499e-01;
  r = r * s - 5.4634299919e-01;
  r = r * s + 1.4724057972e+00;
  r = r * s - 2.6614073094e+00;
  r = r * s + 3.3614172554e+00;
  r = r * s - 2.9494611388e+00;
  r = r * s + 1.6437554985e+00;
  r = r * s - 3.4338765776e-01;
  r = r * s - 2.1566402661e-01;
  r = r * s - 8.5193890121e-03;
  r = r * s + 5.6484422229e-01;
  r = r * s - 2.2853370527e-05;
  let tail = sign(x) * (1.0 - exp(-min(a, vec4<f32>(4.0)) * min(a, vec4<f32>(4.0))) * r);
  return select(select(tail, sign(x), a >= vec4<f32>(4.0)), x * q, a < vec4<f32>(1.0));
}

fn erf_f32(x: f32) -> f32 {
  return erf4(vec4<f32>(x)).x;
}

fn gelu_f32(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_f32(x * 0.70710678118654752));
}

fn gelu4(x: vec4<f32>) -> vec4<f32> {
  return 0.5 * x * (1.0 + erf4(x * 0.70710678118654752));
}
`;

/** The product is PyTorch's order: x * sigmoid(1.702 * x), with 1.702 rounded to f32 as the CPU kernel does. */
export const QUICK_GELU_WGSL = `${EXP_WGSL}
fn quick_gelu_f32(x: f32) -> f32 {
  return x * sigmoid_f32(1.702 * x);
}

fn quick_gelu4(x: vec4<f32>) -> vec4<f32> {
  return x * sigmoid4(1.702 * x);
}
`;

/** Activations that ops can fuse into their epilogue. */
/** quick_gelu is OpenAI CLIP's x·sigmoid(1.702x) (their text towers, FCCLIP-SPEC §2.4). */
export type Activation = "none" | "relu" | "gelu" | "quick_gelu" | "sigmoid";

/** The activation applied to a vec4<f32> expression. */
export function activationWgsl4(act: Activation, v: string): string {
  switch (act) {
    case "none":
      return v;
    case "relu":
      return `max(${v}, vec4<f32>(0.0))`;
    case "gelu":
      return `gelu4(${v})`;
    case "quick_gelu":
      return `quick_gelu4(${v})`;
    case "sigmoid":
      return `sigmoid4(${v})`;
  }
}

export function activationWgsl(act: Activation, v: string): string {
  switch (act) {
    case "none":
      return v;
    case "relu":
      return `max(${v}, 0.0)`;
    case "gelu":
      return `gelu_f32(${v})`;
    case "quick_gelu":
      return `quick_gelu_f32(${v})`;
    case "sigmoid":
      return `sigmoid_f32(${v})`;
  }
}

/** The WGSL functions an activation needs, to put in a kernel's header. */
export function activationPrelude(act: Activation): string {
  return act === "gelu" ? ERF_WGSL : act === "sigmoid" ? EXP_WGSL : act === "quick_gelu" ? QUICK_GELU_WGSL : "";
}
