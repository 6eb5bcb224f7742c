import {
  add,
  concat,
  conv2d,
  type Engine,
  groupNorm,
  interpolate,
  paramLoader,
  permute,
  relu,
  slice,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";
import { disposeEncoderLayer, type EncoderLayerParams, encoderLayer, loadEncoderLayer } from "./encoder-layer.js";
import { levelGeometry } from "./ms-deform-attn.js";
import { positionEmbedding } from "./position-embedding.js";

export interface PixelDecoderConfig {
  /** MODEL.MASK_FORMER.NHEADS (8) and deformable points (4). */
  heads: number;
  points: number;
  /** MODEL.SEM_SEG_HEAD.TRANSFORMER_ENC_LAYERS (6). */
  encoderLayers: number;
  /** GroupNorm groups (32). */
  groups?: number;
}

/** Backbone features in, NCHW. */
export interface BackboneFeatures {
  res2: Tensor;
  res3: Tensor;
  res4: Tensor;
  res5: Tensor;
}

export interface PixelDecoderOutput {
  /** [1, mask_dim, H/4, W/4] */
  mask_features: Tensor;
  /** 1/32, 1/16, 1/8 maps, in that order (the transformer decoder's levels). */
  multi_scale_features: [Tensor, Tensor, Tensor];
  /** With `intermediates: true`: input projections (res5, res4, res3), each encoder layer's [1, S, C] output, fpn_out. */
  intermediates?: { input_proj: Tensor[]; encoder_layers: Tensor[]; fpn_out: Tensor };
}

interface Norm {
  weight: Tensor;
  bias: Tensor;
}

/** Mask2Former's MSDeformAttnPixelDecoder as FC-CLIP configures it (FCCLIP-SPEC §4). */
export class MSDeformAttnPixelDecoder {
  private constructor(
    readonly config: Required<PixelDecoderConfig>,
    private readonly inputProj: { weight: Tensor; bias: Tensor; norm: Norm }[],
    private readonly levelEmbed: Tensor,
    private readonly layers: EncoderLayerParams[],
    private readonly adapter: { weight: Tensor; norm: Norm },
    private readonly layer1: { weight: Tensor; norm: Norm },
    private readonly maskFeatures: { weight: Tensor; bias: Tensor },
  ) {}

  /** prefix: "sem_seg_head.pixel_decoder." in FC-CLIP weights. */
  static async load(
    engine: Engine,
    source: TensorSource,
    prefix: string,
    config: PixelDecoderConfig,
  ): Promise<MSDeformAttnPixelDecoder> {
    const load = paramLoader(engine, source, prefix);
    const norm = async (p: string): Promise<Norm> => ({
      weight: await load(`${p}.weight`),
      bias: await load(`${p}.bias`),
    });
    const inputProj = [];
    for (let l = 0; l < 3; l++) {
      inputProj.push({
        weight: await load(`input_proj.${l}.0.weight`),
        bias: await load(`input_proj.${l}.0.bias`),
        norm: await norm(`input_proj.${l}.1`),
      });
    }
    const layers = [];
    for (let i = 0; i < config.encoderLayers; i++)
      layers.push(await loadEncoderLayer(engine, source, `${prefix}transformer.encoder.layers.${i}.`));
    return new MSDeformAttnPixelDecoder(
      { groups: 32, ...config },
      inputProj,
      await load("transformer.level_embed"),
      layers,
      { weight: await load("adapter_1.weight"), norm: await norm("adapter_1.norm") },
      { weight: await load("layer_1.weight"), norm: await norm("layer_1.norm") },
      { weight: await load("mask_features.weight"), bias: await load("mask_features.bias") },
    );
  }

  forward(features: BackboneFeatures, opts: { intermediates?: boolean } = {}): PixelDecoderOutput {
    const e = features.res2.engine;
    const { heads, points, groups } = this.config;
    return e.scope(() => {
      const levels = [features.res5, features.res4, features.res3];
      const srcs = levels.map((x, l) => {
        const p = this.inputProj[l]!;
        return groupNorm(conv2d(x, p.weight, { bias: p.bias }), groups, p.norm.weight, p.norm.bias, 1e-5);
      });
      const C = srcs[0]!.shape[1]!;
      const shapes = srcs.map((s) => [s.shape[2]!, s.shape[3]!] as [number, number]);
      const flat = (t: Tensor, h: number, w: number) => permute(t.reshape([1, C, h * w]), [0, 2, 1]);
      const tokens = concat(
        srcs.map((s, l) => flat(s, ...shapes[l]!)),
        1,
      );
      const pos = concat(
        shapes.map(([h, w], l) =>
          add(flat(positionEmbedding(e, h, w, C / 2), h, w), slice(this.levelEmbed, [{ start: l, end: l + 1 }])),
        ),
        1,
      );
      const geo = levelGeometry(e, shapes);
      const encoderOutputs: Tensor[] = [];
      let x = tokens;
      for (const layer of this.layers) {
        x = encoderLayer(x, pos, layer, geo, heads, points);
        encoderOutputs.push(x);
      }
      let start = 0;
      const out = shapes.map(([h, w]) => {
        const part = slice(x, [undefined, { start, end: start + h * w }]);
        start += h * w;
        return permute(part, [0, 2, 1]).reshape([1, C, h, w]);
      }) as [Tensor, Tensor, Tensor];
      const res2 = features.res2;
      const lateral = groupNorm(
        conv2d(res2, this.adapter.weight),
        groups,
        this.adapter.norm.weight,
        this.adapter.norm.bias,
        1e-5,
      );
      const up = interpolate(out[2], { size: [res2.shape[2]!, res2.shape[3]!] });
      const fpn = relu(
        groupNorm(
          conv2d(add(lateral, up), this.layer1.weight, { padding: 1 }),
          groups,
          this.layer1.norm.weight,
          this.layer1.norm.bias,
          1e-5,
        ),
      );
      const mask_features = conv2d(fpn, this.maskFeatures.weight, { bias: this.maskFeatures.bias });
      const result: PixelDecoderOutput = { mask_features, multi_scale_features: out };
      if (opts.intermediates) result.intermediates = { input_proj: srcs, encoder_layers: encoderOutputs, fpn_out: fpn };
      return result;
    });
  }

  dispose(): void {
    const all: Tensor[] = [
      this.levelEmbed,
      this.adapter.weight,
      this.layer1.weight,
      this.maskFeatures.weight,
      this.maskFeatures.bias,
    ];
    for (const n of [this.adapter.norm, this.layer1.norm]) all.push(n.weight, n.bias);
    for (const p of this.inputProj) all.push(p.weight, p.bias, p.norm.weight, p.norm.bias);
    for (const t of all) t.dispose();
    for (const l of this.layers) disposeEncoderLayer(l);
  }
}
