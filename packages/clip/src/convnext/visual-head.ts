import { type Engine, layerNorm, matmul, paramLoader, type Tensor, type TensorSource } from "@fcclip/tensor-core";

/**
 * CLIP's image-embedding head on pooled trunk features: timm NormMlpClassifierHead's LayerNorm (eps 1e-6), then
 * open_clip's `mlp` projection (Linear + bias → exact GELU → Linear without bias). FC-CLIP's out-of-vocabulary
 * classifier applies it to mask-pooled features.
 */
export class ClipVisualHead {
  private constructor(
    private readonly normWeight: Tensor,
    private readonly normBias: Tensor,
    private readonly fc1Weight: Tensor,
    private readonly fc1Bias: Tensor,
    private readonly fc2Weight: Tensor,
  ) {}

  /** prefix e.g. "visual." (open_clip) or "backbone.clip_model.visual." (FC-CLIP). */
  static async load(engine: Engine, source: TensorSource, prefix: string): Promise<ClipVisualHead> {
    const load = paramLoader(engine, source, prefix);
    const t = await Promise.all(
      [
        "trunk.head.norm.weight",
        "trunk.head.norm.bias",
        "head.mlp.fc1.weight",
        "head.mlp.fc1.bias",
        "head.mlp.fc2.weight",
      ].map((k) => load(k)),
    );
    return new ClipVisualHead(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!);
  }

  get embedDim(): number {
    return this.fc2Weight.shape[0]!;
  }

  /** v [..., C] (C = last trunk width) → [..., embed_dim], un-normalised. */
  forward(v: Tensor): Tensor {
    return v.engine.scope(() => {
      const n = layerNorm(v, this.normWeight, this.normBias, { eps: 1e-6 });
      const h = matmul(n, this.fc1Weight, { transB: true, bias: this.fc1Bias, activation: "gelu" });
      return matmul(h, this.fc2Weight, { transB: true });
    });
  }

  dispose(): void {
    for (const t of [this.normWeight, this.normBias, this.fc1Weight, this.fc1Bias, this.fc2Weight]) t.dispose();
  }
}
