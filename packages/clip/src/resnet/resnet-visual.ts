import { concat, type Engine, slice, type Tensor } from "@fcclip/tensor-core";
import type { DenseFeatures, MaskEmbeddings, VisualBackbone, VisualShape, VisualWeights } from "../visual-backbone.js";
import { AttentionPool2d } from "./attention-pool.js";
import { inferResNetShape, type ResNetShape, ResNetTrunk } from "./trunk.js";

/** OpenAI's ResNet CLIP image tower (RN50, RN101, RN50x4, RN50x16, RN50x64): ModifiedResNet + attention pool. */
export class ResNetVisual implements VisualBackbone {
  readonly shape: VisualShape;

  private constructor(
    readonly trunk: ResNetTrunk,
    readonly attnpool: AttentionPool2d,
  ) {
    const w = trunk.shape.width;
    this.shape = {
      family: "resnet",
      dims: [4 * w, 8 * w, 16 * w, 32 * w],
      depths: [...trunk.shape.layers],
      embedDim: attnpool.embedDim,
    };
  }

  /** prefix "visual." for OpenAI/open_clip files, "backbone.clip_model.visual." inside FC-CLIP weights. */
  static async load(
    engine: Engine,
    weights: VisualWeights,
    prefix = "visual.",
    shape: ResNetShape = inferResNetShape(weights, prefix),
  ): Promise<ResNetVisual> {
    const trunk = await ResNetTrunk.load(engine, weights, prefix, shape);
    try {
      return new ResNetVisual(trunk, await AttentionPool2d.load(engine, weights, `${prefix}attnpool.`));
    } catch (err) {
      trunk.dispose();
      throw err;
    }
  }

  get imageSize(): number {
    return this.attnpool.grid * 32;
  }

  denseFeatures(x: Tensor): DenseFeatures {
    return this.trunk.forward(x);
  }

  /** Pools each image's res5 at the native grid (an input of imageSize², as open_clip requires). */
  encodeImage(x: Tensor): Tensor {
    return x.engine.scope(() => {
      const { res5 } = this.trunk.forward(x);
      const N = x.shape[0]!;
      const rows = Array.from({ length: N }, (_, n) =>
        this.attnpool.pool(N === 1 ? res5 : slice(res5, [{ start: n, end: n + 1 }])),
      );
      return N === 1 ? rows[0]! : concat(rows, 0);
    });
  }

  async maskEmbeddings(clipVisDense: Tensor, maskLogits: Tensor): Promise<MaskEmbeddings> {
    const [, Q, h, w] = maskLogits.shape as [number, number, number, number];
    const logits = (await maskLogits.read()) as Float32Array;
    const hw = h * w;
    const excluded = new Int32Array(Q * hw);
    const nonEmpty = new Uint8Array(Q);
    for (let i = 0; i < excluded.length; i++) {
      const inside = logits[i]! > 0;
      excluded[i] = inside ? 0 : 1;
      if (inside) nonEmpty[(i / hw) | 0] = 1;
    }
    const e = clipVisDense.engine;
    const mask = e.tensor(excluded, [Q, hw]);
    const embeddings = this.attnpool.maskPool(clipVisDense, mask);
    mask.dispose();
    return { embeddings, nonEmpty };
  }

  dispose(): void {
    this.trunk.dispose();
    this.attnpool.dispose();
  }
}
