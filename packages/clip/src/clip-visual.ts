import { type Engine, mean, ShapeError, type StateDict, type Tensor } from "@fcclip/tensor-core";
import { type ConvNeXtFeatures, type ConvNeXtShape, ConvNeXtTrunk } from "./convnext/trunk.js";
import { ClipVisualHead } from "./visual-head.js";

/** Reads the ConvNeXt widths and depths off a state dict's keys (`<prefix>trunk.stages.{s}.blocks.{b}.gamma`). */
export function inferConvNeXtShape(weights: Pick<StateDict, "keys" | "info">, prefix: string): ConvNeXtShape {
  const dims: number[] = [];
  const depths: number[] = [];
  const re = new RegExp(`^${prefix.replace(/\./g, "\\.")}trunk\\.stages\\.(\\d+)\\.blocks\\.(\\d+)\\.gamma$`);
  for (const k of weights.keys()) {
    const m = re.exec(k);
    if (!m) continue;
    const s = Number(m[1]);
    dims[s] = weights.info(k)!.shape[0]!;
    depths[s] = Math.max(depths[s] ?? 0, Number(m[2]) + 1);
  }
  if (dims.length === 0 || Array.from(dims).some((d) => d === undefined)) {
    throw new ShapeError(`no ConvNeXt trunk under '${prefix}trunk.' in these weights (is this a ConvNeXt CLIP?)`);
  }
  return { dims, depths };
}

/** The CLIP ConvNeXt image tower: dense features (what FC-CLIP uses) and image embeddings. */
export class ClipVisual {
  private constructor(
    readonly trunk: ConvNeXtTrunk,
    readonly head: ClipVisualHead,
  ) {}

  /** prefix "visual." for open_clip files, "backbone.clip_model.visual." inside FC-CLIP weights. */
  static async load(engine: Engine, weights: StateDict, prefix = "visual."): Promise<ClipVisual> {
    const shape = inferConvNeXtShape(weights, prefix);
    return new ClipVisual(
      await ConvNeXtTrunk.load(engine, weights, `${prefix}trunk.`, shape),
      await ClipVisualHead.load(engine, weights, prefix),
    );
  }

  /** res2..res5 and clip_vis_dense for a normalised [N, 3, H, W] image (H, W multiples of 32). */
  denseFeatures(x: Tensor): ConvNeXtFeatures {
    return this.trunk.forward(x);
  }

  /** open_clip's encode_image: global average pool of res5, then the head → [N, embed_dim], un-normalised. */
  encodeImage(x: Tensor): Tensor {
    return x.engine.scope(() => {
      const f = this.trunk.forward(x);
      return this.head.forward(mean(f.res5, [2, 3]));
    });
  }

  dispose(): void {
    this.trunk.dispose();
    this.head.dispose();
  }
}
