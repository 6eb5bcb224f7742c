import { argmax, type Engine, matmul, type Tensor, unary } from "@fcclip/tensor-core";
import type { ChunkTask, MaskLogitChunk } from "./mask-logit-stream.js";

/**
 * semantic_inference (FCCLIP-SPEC §7.3): per pixel, argmax_c Σ_q p(c | q)·sigmoid(mask_q), without void, as
 * [K, Q] · [Q, pixels] products chunk by chunk. `prob`: [Q, K+1] class probabilities.
 */
export class SemanticInference implements ChunkTask {
  /** Class index per pixel, row-major. */
  readonly labels: Int32Array;
  private readonly classWeights: Tensor;

  /** `sigmoidApplied`: the stream gives probabilities already (sigmoidFirst). */
  constructor(
    engine: Engine,
    prob: Float32Array,
    queries: number,
    pixels: number,
    private readonly sigmoidApplied: boolean,
  ) {
    const K = prob.length / queries - 1;
    const weightsT = new Float32Array(K * queries);
    for (let q = 0; q < queries; q++) for (let c = 0; c < K; c++) weightsT[c * queries + q] = prob[q * (K + 1) + c]!;
    this.classWeights = engine.tensor(weightsT, [K, queries]);
    this.labels = new Int32Array(pixels);
  }

  encode(c: MaskLogitChunk): Record<string, Tensor> {
    const probs = this.sigmoidApplied ? c.logits : unary(c.logits, "sigmoid");
    return { semantic: argmax(matmul(this.classWeights, probs), 0) };
  }

  take(c: MaskLogitChunk, v: Record<string, Float32Array | Int32Array | Uint32Array>): void {
    this.labels.set(v.semantic!.subarray(0, c.valid), c.p0);
  }

  dispose(): void {
    this.classWeights.dispose();
  }
}
