import { softmaxRows } from "./softmax-rows.js";

const f = Math.fround;

export interface EnsembleInput {
  /** [Q, K+1] in-vocabulary logits (last column void). */
  inLogits: Float32Array;
  /** [Q, K] out-of-vocabulary logits (void already removed). */
  outLogits: Float32Array;
  queries: number;
  /** 1 = class seen in COCO training (α applies), 0 = unseen (β). */
  seen: Uint8Array;
  alpha: number;
  beta: number;
  /**
   * ENSEMBLE_ON_VALID_MASK: per query, 0 if its mask is empty at the CLIP resolution; α and β become 0 there, so
   * p_out (NaN for the ResNet pool) meets the exponent 0 and only p_in counts (NaN ** 0 is 1, as in PyTorch).
   */
  valid?: Uint8Array;
}

export interface EnsembleOutput {
  inProbs: Float32Array;
  outProbs: Float32Array;
  clsResults: Float32Array;
  isVoidProb: Float32Array;
  /** [Q, K+1] probabilities: softmax(ensemble)·(1 − p_void), then p_void. */
  maskClsProbs: Float32Array;
  /** [Q, K+1] log(P + 1e-8): what post-processing receives. */
  maskClsResults: Float32Array;
}

/**
 * FC-CLIP's geometric ensemble in the official operation order (FCCLIP-SPEC §6.3–6.5), on the CPU in float32 steps:
 * pow, product, log, then the 0/1 mask — so underflows give the same −inf/NaN as PyTorch would.
 */
export function geometricEnsemble(x: EnsembleInput): EnsembleOutput {
  const { queries: Q, seen } = x;
  const K = seen.length;
  const inProbs = new Float32Array(Q * K);
  const outProbs = new Float32Array(Q * K);
  const clsResults = new Float32Array(Q * K);
  const isVoidProb = new Float32Array(Q);
  const maskClsProbs = new Float32Array(Q * (K + 1));
  const maskClsResults = new Float32Array(Q * (K + 1));
  const withVoid = new Float32Array(K + 1);
  const cls = new Float32Array(K);
  for (let q = 0; q < Q; q++) {
    const keep = x.valid ? x.valid[q]! : 1;
    const a = f(x.alpha * keep);
    const b = f(x.beta * keep);
    softmaxRows(x.inLogits, 1, K, inProbs, q * (K + 1), q * K);
    softmaxRows(x.outLogits, 1, K, outProbs, q * K, q * K);
    softmaxRows(x.inLogits, 1, K + 1, withVoid, q * (K + 1));
    const pVoid = withVoid[K]!;
    isVoidProb[q] = pVoid;
    for (let c = 0; c < K; c++) {
      const pin = inProbs[q * K + c]!;
      const pout = outProbs[q * K + c]!;
      const s = seen[c]!;
      const gs = f(f(Math.log(f(f(pin ** f(1 - a)) * f(pout ** a)))) * s);
      const gu = f(f(Math.log(f(f(pin ** f(1 - b)) * f(pout ** b)))) * (1 - s));
      clsResults[q * K + c] = f(gs + gu);
    }
    softmaxRows(clsResults, 1, K, cls, q * K);
    const notVoid = f(1 - pVoid);
    for (let c = 0; c < K; c++) maskClsProbs[q * (K + 1) + c] = f(cls[c]! * notVoid);
    maskClsProbs[q * (K + 1) + K] = pVoid;
    for (let c = 0; c <= K; c++)
      maskClsResults[q * (K + 1) + c] = f(Math.log(f(maskClsProbs[q * (K + 1) + c]! + 1e-8)));
  }
  return { inProbs, outProbs, clsResults, isVoidProb, maskClsProbs, maskClsResults };
}
