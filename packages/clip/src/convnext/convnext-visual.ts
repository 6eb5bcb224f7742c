import { type Engine, maskPooling, mean, ShapeError, type StateDict, type Tensor } from "@fcclip/tensor-core";
import type { DenseFeatures, MaskEmbeddings, VisualBackbone, VisualShape, VisualWeights } from "../visual-backbone.js";
import { type ConvNeXtShape, ConvNeXtTrunk } from "./trunk.js";
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

/** The LAION ConvNeXt CLIP image tower (timm trunk + NormMlp head), e.g. convnext_large_d_320. */
export class ConvNeXtVisual implements VisualBackbone {
  readonly shape: VisualShape;
  /** convnext_large_d_320's image_size; the tower is fully convolutional, so any size works. */
  readonly imageSize = 320;

  private constructor(
    readonly trunk: ConvNeXtTrunk,
    readonly head: ClipVisualHead,
  ) {
    this.shape = {
      family: "convnext",
      dims: [...trunk.shape.dims],
      depths: [...trunk.shape.depths],
      embedDim: head.embedDim,
    };
  }

  /** prefix "visual." for open_clip files, "backbone.clip_model.visual." inside FC-CLIP weights. */
  static async load(
    engine: Engine,
    weights: VisualWeights,
    prefix = "visual.",
    shape: ConvNeXtShape = inferConvNeXtShape(weights, prefix),
  ): Promise<ConvNeXtVisual> {
    const trunk = await ConvNeXtTrunk.load(engine, weights, `${prefix}trunk.`, shape);
    try {
      return new ConvNeXtVisual(trunk, await ClipVisualHead.load(engine, weights, prefix));
    } catch (err) {
      trunk.dispose();
      throw err;
    }
  }

  /** res2..res5 and clip_vis_dense for a normalised [N, 3, H, W] image (H, W multiples of 32). */
  denseFeatures(x: Tensor): DenseFeatures {
    return this.trunk.forward(x);
  }

  /** open_clip's encode_image: global average pool of res5, then the head → [N, embed_dim], un-normalised. */
  encodeImage(x: Tensor): Tensor {
    return x.engine.scope(() => {
      const f = this.trunk.forward(x);
      return this.head.forward(mean(f.res5, [2, 3]));
    });
  }

  /** visual_prediction_forward_convnext on MaskPooling(clip_vis_dense, mask logits). */
  async maskEmbeddings(clipVisDense: Tensor, maskLogits: Tensor): Promise<MaskEmbeddings> {
    const Q = maskLogits.shape[1]!;
    const pooled = maskPooling(clipVisDense, maskLogits).reshape([Q, clipVisDense.shape[1]!]);
    return { pooled, embeddings: this.head.forward(pooled) };
  }

  dispose(): void {
    this.trunk.dispose();
    this.head.dispose();
  }
}
