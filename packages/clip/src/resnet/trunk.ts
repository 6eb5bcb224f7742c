import {
  avgPool2d,
  conv2d,
  type Engine,
  ShapeError,
  type StateDict,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";
import type { DenseFeatures } from "../visual-backbone.js";
import { type BottleneckParams, bottleneck, disposeBottleneck, loadBottleneck } from "./bottleneck.js";
import { type ConvBn, disposeConvBn, loadConvBn } from "./conv-bn.js";

/** ModifiedResNet sizes, e.g. RN50: width 64, layers [3, 4, 6, 3]; res2..res5 have 4·width … 32·width channels. */
export interface ResNetShape {
  width: number;
  layers: number[];
}

/** Reads width and block counts off `<prefix>conv3.weight` and `<prefix>layer{i}.{b}.conv1.weight` keys. */
export function inferResNetShape(weights: Pick<StateDict, "keys" | "info">, prefix: string): ResNetShape {
  const stem = weights.info(`${prefix}conv3.weight`);
  const layers = [0, 0, 0, 0];
  const re = new RegExp(`^${prefix.replace(/\./g, "\\.")}layer([1-4])\\.(\\d+)\\.conv1\\.weight$`);
  for (const k of weights.keys()) {
    const m = re.exec(k);
    if (m) layers[Number(m[1]) - 1] = Math.max(layers[Number(m[1]) - 1]!, Number(m[2]) + 1);
  }
  if (!stem || layers.some((n) => n === 0)) {
    throw new ShapeError(
      `no ModifiedResNet under '${prefix}' in these weights (${prefix}conv3.weight and layer1..layer4 blocks; is this a ResNet CLIP?)`,
    );
  }
  return { width: stem.shape[0]!, layers };
}

/**
 * open_clip's ModifiedResNet trunk (FCCLIP-SPEC §2.4): three 3×3 conv+BN+ReLU stem layers (the first with stride 2),
 * AvgPool(2), then four layers of Bottlenecks; res2..res5 are the layer outputs (`CLIP.extract_features_resnet`).
 */
export class ResNetTrunk {
  private constructor(
    readonly shape: ResNetShape,
    private readonly stem: ConvBn[],
    private readonly layers: BottleneckParams[][],
  ) {}

  /** prefix "visual." (open_clip/OpenAI) or "backbone.clip_model.visual." (FC-CLIP). */
  static async load(engine: Engine, source: TensorSource, prefix: string, shape: ResNetShape): Promise<ResNetTrunk> {
    const stem: ConvBn[] = [];
    for (let i = 1; i <= 3; i++) stem.push(await loadConvBn(engine, source, `${prefix}conv${i}`, `${prefix}bn${i}`));
    const layers: BottleneckParams[][] = [];
    for (let i = 0; i < 4; i++) {
      const blocks: BottleneckParams[] = [];
      // Every layer's first block changes the width (w → 4w, then 2×), so it always has the shortcut conv.
      for (let b = 0; b < shape.layers[i]!; b++)
        blocks.push(
          await loadBottleneck(engine, source, `${prefix}layer${i + 1}.${b}.`, i > 0 && b === 0 ? 2 : 1, b === 0),
        );
      layers.push(blocks);
    }
    return new ResNetTrunk(shape, stem, layers);
  }

  /** x: normalised NCHW image [N, 3, H, W]. Odd sizes pool in floor mode, as PyTorch does. */
  forward(x: Tensor): DenseFeatures {
    const outs = x.engine.scope(() => {
      let h = x;
      this.stem.forEach((c, i) => {
        h = conv2d(h, c.weight, { bias: c.bias, stride: i === 0 ? 2 : 1, padding: 1, activation: "relu" });
      });
      h = avgPool2d(h, 2);
      const res: Tensor[] = [];
      for (const layer of this.layers) {
        for (const block of layer) h = bottleneck(h, block);
        res.push(h);
      }
      return res;
    });
    const [res2, res3, res4, res5] = outs as [Tensor, Tensor, Tensor, Tensor];
    return { res2, res3, res4, res5, clip_vis_dense: res5 };
  }

  dispose(): void {
    for (const c of this.stem) disposeConvBn(c);
    for (const l of this.layers) for (const b of l) disposeBottleneck(b);
  }
}
