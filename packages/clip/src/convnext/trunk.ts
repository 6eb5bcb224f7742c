import { conv2d, type Engine, layerNorm, paramLoader, type Tensor, type TensorSource } from "@fcclip/tensor-core";
import type { DenseFeatures } from "../visual-backbone.js";
import { type ConvNeXtBlockParams, convnextBlock, disposeBlock, loadBlock } from "./block.js";

interface Stage {
  downsample: { normWeight: Tensor; normBias: Tensor; convWeight: Tensor; convBias: Tensor } | null;
  blocks: ConvNeXtBlockParams[];
}

/** Stage widths and depths, e.g. convnext_large: [192, 384, 768, 1536] and [3, 3, 27, 3]. */
export interface ConvNeXtShape {
  dims: number[];
  depths: number[];
}

/** timm ConvNeXt trunk as open_clip uses it (LayerNorm eps 1e-6, exact GELU, layer scale), for any widths/depths. */
export class ConvNeXtTrunk {
  private constructor(
    readonly shape: ConvNeXtShape,
    private readonly stem: { convWeight: Tensor; convBias: Tensor; normWeight: Tensor; normBias: Tensor },
    private readonly stages: Stage[],
  ) {}

  /** Loads `<prefix>stem.*` and `<prefix>stages.*` (prefix e.g. "visual.trunk." or "backbone.clip_model.visual.trunk."). */
  static async load(
    engine: Engine,
    source: TensorSource,
    prefix: string,
    shape: ConvNeXtShape,
  ): Promise<ConvNeXtTrunk> {
    const load = paramLoader(engine, source, prefix);
    const [convWeight, convBias, normWeight, normBias] = await Promise.all(
      ["stem.0.weight", "stem.0.bias", "stem.1.weight", "stem.1.bias"].map((k) => load(k)),
    );
    const stages: Stage[] = [];
    for (let s = 0; s < shape.dims.length; s++) {
      const p = `stages.${s}.`;
      const downsample =
        s === 0
          ? null
          : {
              normWeight: await load(`${p}downsample.0.weight`),
              normBias: await load(`${p}downsample.0.bias`),
              convWeight: await load(`${p}downsample.1.weight`),
              convBias: await load(`${p}downsample.1.bias`),
            };
      const blocks: ConvNeXtBlockParams[] = [];
      for (let b = 0; b < shape.depths[s]!; b++)
        blocks.push(await loadBlock(engine, source, `${prefix}${p}blocks.${b}.`));
      stages.push({ downsample, blocks });
    }
    return new ConvNeXtTrunk(
      shape,
      { convWeight: convWeight!, convBias: convBias!, normWeight: normWeight!, normBias: normBias! },
      stages,
    );
  }

  /** x: normalised NCHW image [N, 3, H, W] with H, W multiples of 32. */
  forward(x: Tensor): DenseFeatures {
    const e = x.engine;
    const outs = e.scope(() => {
      let h = conv2d(x, this.stem.convWeight, { bias: this.stem.convBias, stride: 4 });
      h = layerNorm(h, this.stem.normWeight, this.stem.normBias, { axis: 1, eps: 1e-6 });
      const stageOutputs: Tensor[] = [];
      for (const stage of this.stages) {
        if (stage.downsample) {
          const d = stage.downsample;
          h = layerNorm(h, d.normWeight, d.normBias, { axis: 1, eps: 1e-6 });
          h = conv2d(h, d.convWeight, { bias: d.convBias, stride: 2 });
        }
        for (const block of stage.blocks) h = convnextBlock(h, block);
        stageOutputs.push(h);
      }
      return stageOutputs;
    });
    const [res2, res3, res4, res5] = outs as [Tensor, Tensor, Tensor, Tensor];
    // clip_vis_dense = trunk.norm_pre(res5), the identity for ConvNeXt.
    return { res2, res3, res4, res5, clip_vis_dense: res5 };
  }

  dispose(): void {
    const all = [this.stem.convWeight, this.stem.convBias, this.stem.normWeight, this.stem.normBias];
    for (const s of this.stages) {
      if (s.downsample) all.push(...Object.values(s.downsample));
      for (const b of s.blocks) disposeBlock(b);
    }
    for (const t of all) t.dispose();
  }
}
