/**
 * exp and sigmoid to within a few float32 ulps, as PyTorch's CPU kernels are. WGSL's builtin exp is only bounded by
 * 3 + 2|x| ulps (lavapipe: 63 ulps at x = −80), and FC-CLIP's panoptic inference compares score·sigmoid(logit) across
 * queries where every logit is strongly negative: there those ulps decide which query owns a pixel.
 */
export const EXP_WGSL = `
// exp(x) = 2^k · e^r: k = round(x / ln 2), r = x − k·ln 2 in two parts (k·LN2_HI is exact for |k| < 512), e^r from a
// degree-7 Taylor polynomial on |r| ≤ ln(2)/2 (truncation < 6e-9), 2^k applied in two halves so no step overflows.
fn exp_f32(x: f32) -> f32 {
  if (x != x) { return x; }
  if (x > 88.72283935546875) { return x * 3.4028234663852886e38; } // overflows to +inf at run time
  if (x < -103.97208404541016) { return 0.0; }
  let k = round(x * 1.4426950408889634);
  let r = (x - k * 0.693145751953125) - k * 1.4286068203094172e-6;
  var q = 1.9841270e-4;
  q = q * r + 1.3888889e-3;
  q = q * r + 8.3333333e-3;
  q = q * r + 4.1666667e-2;
  q = q * r + 1.6666667e-1;
  q = q * r + 0.5;
  q = q * r + 1.0;
  q = q * r + 1.0;
  let ki = i32(k);
  let h = ki / 2;
  return ldexp(ldexp(q, h), ki - h);
}

fn sigmoid_f32(x: f32) -> f32 {
  return 1.0 / (1.0 + exp_f32(-x));
}

fn sigmoid4(x: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(sigmoid_f32(x.x), sigmoid_f32(x.y), sigmoid_f32(x.z), sigmoid_f32(x.w));
}
`;
