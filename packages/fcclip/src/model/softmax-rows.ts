const f = Math.fround;

/**
 * softmax over rows of `n` entries in float32 steps (max, exp, running sum, divide), as PyTorch's CPU softmax rounds
 * them: x[off .. off + rows·n) → out[outOff ..). The ensemble and post-processing compare these probabilities with
 * thresholds and with each other, so they must round as the official code's do.
 */
export function softmaxRows(
  x: Float32Array,
  rows: number,
  n: number,
  out = new Float32Array(rows * n),
  off = 0,
  outOff = 0,
): Float32Array {
  for (let r = 0; r < rows; r++) {
    const i0 = off + r * n;
    const o0 = outOff + r * n;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) max = Math.max(max, x[i0 + i]!);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const e = f(Math.exp(f(x[i0 + i]! - max)));
      out[o0 + i] = e;
      sum = f(sum + e);
    }
    for (let i = 0; i < n; i++) out[o0 + i] = f(out[o0 + i]! / sum);
  }
  return out;
}
