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
