import { l2Normalize, matmul, type Tensor } from "@fcclip/tensor-core";

/** T' on the GPU: one unit row per synonym, then the normalised void embedding; and each class's synonym count. */
export interface ClassifierInput {
  embeddings: Tensor;
  synonymsPerClass: readonly number[];
}

/**
 * FC-CLIP's get_classification_logits (FCCLIP-SPEC §3.5), shared by both classifiers: `scale` · cos(x, T') on the
 * GPU, then per class the max over its synonyms on the CPU, void last. x: [Q, D] → [Q, K+1]. NaN rows (the ResNet
 * pool's empty masks) stay NaN, as torch.max keeps them.
 */
export async function getClassificationLogits(
  x: Tensor,
  classifier: ClassifierInput,
  scale: number,
): Promise<Float32Array> {
  const sims = x.engine.scope(() => matmul(l2Normalize(x), classifier.embeddings, { transB: true, alpha: scale }));
  const data = (await sims.read()) as Float32Array;
  sims.dispose();
  return maxOverSynonyms(data, x.shape[0]!, classifier.synonymsPerClass);
}

/**
 * FC-CLIP's get_classification_logits tail (FCCLIP-SPEC §3.5 step 3), on the CPU: per class, the max over its
 * synonyms' columns; the last column (void) is kept as class K. sims: [Q, S+1] row-major → [Q, K+1].
 */
export function maxOverSynonyms(
  sims: Float32Array,
  queries: number,
  synonymsPerClass: readonly number[],
): Float32Array {
  const S1 = sims.length / queries;
  const K = synonymsPerClass.length;
  const out = new Float32Array(queries * (K + 1));
  for (let q = 0; q < queries; q++) {
    let col = 0;
    for (let c = 0; c < K; c++) {
      let best = Number.NEGATIVE_INFINITY;
      for (let s = 0; s < synonymsPerClass[c]!; s++, col++) best = Math.max(best, sims[q * S1 + col]!);
      out[q * (K + 1) + c] = best;
    }
    out[q * (K + 1) + K] = sims[q * S1 + S1 - 1]!;
  }
  return out;
}
