import {
  add,
  attentionMaskFromLogits,
  type Engine,
  interpolate,
  layerNorm,
  maskPooling,
  matmul,
  type ParamLoader,
  paramLoader,
  permute,
  slice,
  type Tensor,
  type TensorSource,
  toFloat32,
} from "@fcclip/tensor-core";
import { positionEmbedding } from "../pixel-decoder/position-embedding.js";
import { type ClassifierInput, getClassificationLogits } from "./class-logits.js";
import {
  disposeMultiHeadAttention,
  loadMultiHeadAttention,
  type MultiHeadAttentionParams,
  multiHeadAttention,
} from "./multi-head-attention.js";

export interface TransformerDecoderConfig {
  /** MODEL.MASK_FORMER.NHEADS (8). */
  heads: number;
  /** Built layers: DEC_LAYERS − 1 (9). */
  layers: number;
}

interface Linear {
  weight: Tensor;
  bias: Tensor;
}
interface Norm {
  weight: Tensor;
  bias: Tensor;
}

export interface DecoderOutput {
  /** [Q, K+1] in-vocabulary class logits of the final prediction. */
  pred_logits: Float32Array;
  /** [1, Q, H/4, W/4] final mask logits. */
  pred_masks: Tensor;
  /** With `intermediates: true`, per prediction (before the first layer, then after each): as the oracle dumps them. */
  intermediates?: { pred_masks: Tensor[]; query_norm: Tensor[]; mask_pooling_proj: Tensor[]; class_embed: Tensor[] };
}

function mlp(x: Tensor, layers: Linear[]): Tensor {
  let h = x;
  layers.forEach((l, i) => {
    h = matmul(h, l.weight, { transB: true, bias: l.bias, activation: i < layers.length - 1 ? "relu" : "none" });
  });
  return h;
}

/** FC-CLIP's multi-scale masked transformer decoder with its CLIP-text class head (FCCLIP-SPEC §5). */
export class FcclipTransformerDecoder {
  private constructor(
    readonly config: TransformerDecoderConfig,
    private readonly p: {
      logitScale: number;
      selfAttn: { attn: MultiHeadAttentionParams; norm: Norm }[];
      crossAttn: { attn: MultiHeadAttentionParams; norm: Norm }[];
      ffn: { linear1: Linear; linear2: Linear; norm: Norm }[];
      decoderNorm: Norm;
      queryFeat: Tensor;
      queryEmbed: Tensor;
      levelEmbed: Tensor;
      maskEmbed: Linear[];
      maskPoolingNorm: Norm;
      maskPoolingProj: Linear;
      classEmbed: Linear[];
    },
  ) {}

  /** prefix: "sem_seg_head.predictor." in FC-CLIP weights. */
  static async load(
    engine: Engine,
    source: TensorSource,
    prefix: string,
    config: TransformerDecoderConfig,
  ): Promise<FcclipTransformerDecoder> {
    const load: ParamLoader = paramLoader(engine, source, prefix);
    const pair = async (p: string) => ({ weight: await load(`${p}.weight`), bias: await load(`${p}.bias`) });
    const selfAttn = [];
    const crossAttn = [];
    const ffn = [];
    for (let i = 0; i < config.layers; i++) {
      selfAttn.push({
        attn: await loadMultiHeadAttention(load, `transformer_self_attention_layers.${i}.self_attn.`),
        norm: await pair(`transformer_self_attention_layers.${i}.norm`),
      });
      crossAttn.push({
        attn: await loadMultiHeadAttention(load, `transformer_cross_attention_layers.${i}.multihead_attn.`),
        norm: await pair(`transformer_cross_attention_layers.${i}.norm`),
      });
      ffn.push({
        linear1: await pair(`transformer_ffn_layers.${i}.linear1`),
        linear2: await pair(`transformer_ffn_layers.${i}.linear2`),
        norm: await pair(`transformer_ffn_layers.${i}.norm`),
      });
    }
    const logitScale = toFloat32(await source.read(`${prefix}logit_scale`))[0]!;
    return new FcclipTransformerDecoder(config, {
      logitScale,
      selfAttn,
      crossAttn,
      ffn,
      decoderNorm: await pair("decoder_norm"),
      queryFeat: await load("query_feat.weight"),
      queryEmbed: await load("query_embed.weight"),
      levelEmbed: await load("level_embed.weight"),
      maskEmbed: [
        await pair("mask_embed.layers.0"),
        await pair("mask_embed.layers.1"),
        await pair("mask_embed.layers.2"),
      ],
      maskPoolingNorm: await pair("_mask_pooling_proj.0"),
      maskPoolingProj: await pair("_mask_pooling_proj.1"),
      classEmbed: [
        await pair("class_embed.layers.0"),
        await pair("class_embed.layers.1"),
        await pair("class_embed.layers.2"),
      ],
    });
  }

  /** min(exp(logit_scale), 100), the in-vocabulary classifier's temperature. */
  get temperature(): number {
    return Math.min(Math.exp(this.p.logitScale), 100);
  }

  /**
   * forward_prediction_heads: decoder_norm, mask embedding · mask_features, and the next layer's attention mask at
   * `target` size. The class head runs only when asked (it is only needed for the final prediction).
   */
  private head(x: Tensor, maskFeatures: Tensor, target: [number, number] | null, withClass: boolean) {
    const [, Md, H, W] = maskFeatures.shape as [number, number, number, number];
    const Q = x.shape[0]!;
    const o = layerNorm(x, this.p.decoderNorm.weight, this.p.decoderNorm.bias, { eps: 1e-5 });
    const emb = mlp(o, this.p.maskEmbed);
    const masks = matmul(emb, maskFeatures.reshape([Md, H * W])).reshape([1, Q, H, W]);
    let classEmbed: Tensor | null = null;
    let pooledProj: Tensor | null = null;
    if (withClass) {
      const pooled = maskPooling(maskFeatures, masks).reshape([Q, Md]);
      const n = layerNorm(pooled, this.p.maskPoolingNorm.weight, this.p.maskPoolingNorm.bias, { eps: 1e-5 });
      pooledProj = matmul(n, this.p.maskPoolingProj.weight, { transB: true, bias: this.p.maskPoolingProj.bias });
      classEmbed = mlp(add(pooledProj, o), this.p.classEmbed);
    }
    let mask: Tensor | null = null;
    if (target) {
      const resized = interpolate(masks, { size: target }).reshape([Q, target[0] * target[1]]);
      mask = attentionMaskFromLogits(resized);
    }
    return { o, masks, classEmbed, pooledProj, mask };
  }

  forward(
    multiScale: readonly [Tensor, Tensor, Tensor],
    maskFeatures: Tensor,
    classifier: ClassifierInput,
    opts: { intermediates?: boolean } = {},
  ): Promise<DecoderOutput> {
    const e = maskFeatures.engine;
    const { heads, layers } = this.config;
    const inter = {
      pred_masks: [] as Tensor[],
      query_norm: [] as Tensor[],
      mask_pooling_proj: [] as Tensor[],
      class_embed: [] as Tensor[],
    };
    const result = e.scope(() => {
      const D = this.p.queryFeat.shape[1]!;
      const src: Tensor[] = [];
      const pos: Tensor[] = [];
      const sizes: [number, number][] = [];
      multiScale.forEach((f, i) => {
        const [, , h, w] = f.shape as [number, number, number, number];
        sizes.push([h, w]);
        const flat = (t: Tensor) => permute(t.reshape([D, h * w]), [1, 0]);
        pos.push(flat(positionEmbedding(e, h, w, D / 2)));
        src.push(add(flat(f), slice(this.p.levelEmbed, [{ start: i, end: i + 1 }])));
      });
      const qp = this.p.queryEmbed;
      let x = this.p.queryFeat;
      const record = (h: ReturnType<FcclipTransformerDecoder["head"]>) => {
        if (!opts.intermediates) return;
        inter.pred_masks.push(h.masks);
        inter.query_norm.push(h.o);
        if (h.pooledProj) inter.mask_pooling_proj.push(h.pooledProj);
        if (h.classEmbed) inter.class_embed.push(h.classEmbed);
      };
      let h = this.head(x, maskFeatures, sizes[0]!, !!opts.intermediates);
      record(h);
      for (let i = 0; i < layers; i++) {
        const l = i % 3;
        const ca = this.p.crossAttn[i]!;
        const keys = add(src[l]!, pos[l]!);
        x = layerNorm(
          add(x, multiHeadAttention(add(x, qp), keys, src[l]!, ca.attn, heads, h.mask!)),
          ca.norm.weight,
          ca.norm.bias,
          { eps: 1e-5 },
        );
        const sa = this.p.selfAttn[i]!;
        const qk = add(x, qp);
        x = layerNorm(add(x, multiHeadAttention(qk, qk, x, sa.attn, heads)), sa.norm.weight, sa.norm.bias, {
          eps: 1e-5,
        });
        const f = this.p.ffn[i]!;
        const hidden = matmul(x, f.linear1.weight, { transB: true, bias: f.linear1.bias, activation: "relu" });
        const ff = matmul(hidden, f.linear2.weight, { transB: true, bias: f.linear2.bias, residual: x });
        x = layerNorm(ff, f.norm.weight, f.norm.bias, { eps: 1e-5 });
        const last = i === layers - 1;
        h = this.head(x, maskFeatures, last ? null : sizes[(i + 1) % 3]!, last || !!opts.intermediates);
        record(h);
      }
      return { classEmbed: h.classEmbed!, masks: h.masks, inter };
    });
    // get_classification_logits with the decoder's temperature.
    return getClassificationLogits(result.classEmbed, classifier, this.temperature).then((logits) => {
      // With intermediates the class embedding is also the last recorded one, which the caller disposes.
      if (!opts.intermediates) result.classEmbed.dispose();
      const out: DecoderOutput = { pred_logits: logits, pred_masks: result.masks };
      if (opts.intermediates) out.intermediates = inter;
      return out;
    });
  }

  dispose(): void {
    const p = this.p;
    const all: Tensor[] = [p.queryFeat, p.queryEmbed, p.levelEmbed, p.decoderNorm.weight, p.decoderNorm.bias];
    for (const l of [...p.maskEmbed, ...p.classEmbed, p.maskPoolingNorm, p.maskPoolingProj]) all.push(l.weight, l.bias);
    for (const s of [...p.selfAttn, ...p.crossAttn]) {
      disposeMultiHeadAttention(s.attn);
      all.push(s.norm.weight, s.norm.bias);
    }
    for (const f of p.ffn)
      all.push(f.linear1.weight, f.linear1.bias, f.linear2.weight, f.linear2.bias, f.norm.weight, f.norm.bias);
    for (const t of all) t.dispose();
  }
}
