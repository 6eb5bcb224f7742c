import type { RgbImage, VisualBackbone } from "@fcclip/clip";
import {
  type ClassifierInput,
  type FcclipTransformerDecoder,
  getClassificationLogits,
  type MSDeformAttnPixelDecoder,
} from "@fcclip/mask2former";
import { concat, type Engine, interpolate, l2Normalize, ShapeError, type Tensor } from "@fcclip/tensor-core";
import type { TextClassifier } from "@fcclip/text-encoder";
import { geometricEnsemble } from "../model/ensemble.js";
import type { FcclipConfig } from "../model/fcclip-config.js";
import { inference, type Segmentation, type Task } from "../postprocess/inference.js";
import { preprocess } from "../preprocess/preprocess.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import type { FcclipStage, PipelineHooks, StageTensor } from "./stages.js";

/** The loaded modules one image runs through (FcclipModel.load builds them). */
export interface FcclipModules {
  /** The frozen CLIP image tower. */
  visual: VisualBackbone;
  pixelDecoder: MSDeformAttnPixelDecoder;
  decoder: FcclipTransformerDecoder;
  /** void_embedding.weight [1, D]: T' ends with it, L2-normalised. */
  voidEmbedding: Tensor;
  /** min(exp(clip logit_scale), 100): the out-of-vocabulary classifier's temperature. */
  clipTemperature: number;
}

export interface PipelineRun {
  /** Synonym rows of the vocabulary's text classifier (TextClassifierCache). */
  classifier: TextClassifier;
  vocab: Vocabulary;
  /** 1 per class seen in COCO training (α), 0 for unseen (β). */
  seen: Uint8Array;
  tasks: readonly Task[];
  hooks?: PipelineHooks;
}

const onHost = (shape: readonly number[], data: Float32Array): StageTensor => ({ shape, read: async () => data });
/** [Q, C] pooled features under the oracle's [1, Q, C] shape (the official code keeps the batch axis). */
const batched = (t: Tensor): StageTensor => ({ shape: [1, ...t.shape], read: () => t.read() });

/**
 * FC-CLIP's forward at test time (fcclip.py), one image, stage by stage under the official names (stages.ts). Each
 * stage frees what no later stage reads, unless a hook keeps intermediates for dumps.
 */
export class FcclipPipeline {
  constructor(
    readonly engine: Engine,
    readonly config: FcclipConfig,
    readonly modules: FcclipModules,
  ) {}

  async run(img: RgbImage, r: PipelineRun): Promise<Segmentation> {
    const e = this.engine;
    const cfg = this.config;
    const m = this.modules;
    const K = r.vocab.classes.length;
    if (r.seen.length !== K)
      throw new ShapeError(`segment: the seen mask has ${r.seen.length} entries for ${K} classes`);
    if (r.classifier.synonymsPerClass.length !== K) {
      throw new ShapeError(
        `segment: the text classifier has ${r.classifier.synonymsPerClass.length} classes, the vocabulary ${K}`,
      );
    }
    const hooks = r.hooks ?? {};
    const keep = !!hooks.onTensor;
    const live = new Set<Tensor>();
    const own = <T extends Tensor>(t: T): T => {
      live.add(t);
      return t;
    };
    /** Disposes tensors no later stage reads (with onTensor they have been handed over already). */
    const release = (...ts: (Tensor | undefined)[]) => {
      for (const t of ts) {
        if (t && live.delete(t)) t.dispose();
      }
    };

    let current: FcclipStage | null = null;
    let t0 = performance.now();
    /** Ends the current stage (timed, synced only for onStage), hands its tensors to onTensor, starts `stage`. */
    const next = async (stage: FcclipStage | null, tensors: () => [string, StageTensor][] = () => []) => {
      if (current && hooks.onStage) {
        await e.sync();
        hooks.onStage(current, performance.now() - t0);
      }
      if (hooks.onTensor) for (const [name, t] of tensors()) await hooks.onTensor(name, t);
      await e.stage(stage ?? "");
      current = stage;
      t0 = performance.now();
    };

    try {
      await next("backbone");
      const pre = preprocess(e, img, cfg);
      own(pre.images);
      const feats = m.visual.denseFeatures(pre.images);
      for (const k of ["res2", "res3", "res4", "res5"] as const) own(feats[k]);
      const padded: [number, number] = [pre.images.shape[2]!, pre.images.shape[3]!];

      await next("pixel_decoder", () => [
        ["input.images_tensor", pre.images],
        ...(["res2", "res3", "res4", "res5", "clip_vis_dense"] as const).map((k): [string, StageTensor] => [
          `backbone.${k}`,
          feats[k],
        ]),
      ]);
      release(pre.images);
      const pd = m.pixelDecoder.forward(feats, { intermediates: keep });
      own(pd.mask_features);
      for (const t of pd.multi_scale_features) own(t);
      const pdi = pd.intermediates;
      if (pdi) for (const t of [...pdi.input_proj, ...pdi.encoder_layers, pdi.fpn_out]) own(t);

      await next("transformer_decoder", () => [
        ...pdi!.input_proj.map((t, l): [string, StageTensor] => [`pixel_decoder.input_proj.${l}`, t]),
        ...pdi!.encoder_layers.map((t, i): [string, StageTensor] => [`pixel_decoder.encoder.layers.${i}`, t]),
        ["pixel_decoder.fpn_out.0", pdi!.fpn_out],
        ["pixel_decoder.mask_features", pd.mask_features],
        ...pd.multi_scale_features.map((t, l): [string, StageTensor] => [`pixel_decoder.multi_scale_features.${l}`, t]),
      ]);
      release(
        feats.res2,
        feats.res3,
        feats.res4,
        ...(pdi ? [...pdi.input_proj, ...pdi.encoder_layers, pdi.fpn_out] : []),
      );
      // T': one unit row per synonym, then the normalised void embedding (get_classification_logits' classifier).
      const { classifier } = r;
      const clf: ClassifierInput = {
        embeddings: own(
          e.scope(() =>
            concat(
              [e.tensor(classifier.embeddings, [classifier.rows, classifier.dim]), l2Normalize(m.voidEmbedding)],
              0,
            ),
          ),
        ),
        synonymsPerClass: classifier.synonymsPerClass,
      };

      const dec = await m.decoder.forward(pd.multi_scale_features, pd.mask_features, clf, { intermediates: keep });
      own(dec.pred_masks);
      const di = dec.intermediates;
      // The last recorded mask prediction is pred_masks itself, which inference still reads.
      const recorded = di
        ? Object.values(di)
            .flat()
            .filter((t) => t !== dec.pred_masks)
        : [];
      for (const t of recorded) own(t);
      const Q = dec.pred_masks.shape[1]!;

      await next("visual_prediction_forward", () => [
        // One entry per prediction head call (0 = the learnable queries, then after each layer), as the oracle numbers them.
        ...Object.entries(di!).flatMap(([part, list]) =>
          list.map((t, n): [string, StageTensor] => [`decoder.${part}.${n}`, t]),
        ),
        ["decoder.pred_masks", dec.pred_masks],
        ["decoder.pred_logits", onHost([1, Q, K + 1], dec.pred_logits)],
      ]);
      release(pd.mask_features, ...pd.multi_scale_features, ...recorded);
      const dense = feats.clip_vis_dense;
      const clipSize: [number, number] = [dense.shape[2]!, dense.shape[3]!];
      const maskForPooling = own(e.scope(() => interpolate(dec.pred_masks, { size: clipSize })));
      const pooled = await m.visual.maskEmbeddings(dense, maskForPooling);
      own(pooled.embeddings);
      if (pooled.pooled) own(pooled.pooled);

      await next("get_classification_logits", () => [
        ["oov.mask_for_pooling", maskForPooling],
        ...(pooled.pooled ? [["oov.mask_pooled_clip_feature", batched(pooled.pooled)] as [string, StageTensor]] : []),
        ["oov.pooled_clip_feature", batched(pooled.embeddings)],
      ]);
      release(feats.res5, pooled.pooled);
      const outAll = await getClassificationLogits(pooled.embeddings, clf, m.clipTemperature);
      release(pooled.embeddings);
      const outLogits = new Float32Array(Q * K);
      for (let q = 0; q < Q; q++) outLogits.set(outAll.subarray(q * (K + 1), q * (K + 1) + K), q * K);

      await next("geometric_ensemble", () => [["oov.out_vocab_logits", onHost([1, Q, K], outLogits)]]);
      // ENSEMBLE_ON_VALID_MASK: which queries have a positive pixel at the CLIP resolution (the ResNet pool has read
      // the masks already and says so).
      let valid: Uint8Array | undefined;
      if (cfg.ensembleOnValidMask) {
        valid = pooled.nonEmpty;
        if (!valid) {
          const mc = (await maskForPooling.read()) as Float32Array;
          const hw = clipSize[0] * clipSize[1];
          valid = Uint8Array.from({ length: Q }, (_, q) =>
            mc.subarray(q * hw, (q + 1) * hw).some((v) => v > 0) ? 1 : 0,
          );
        }
      }
      release(maskForPooling);
      const ens = geometricEnsemble({
        inLogits: dec.pred_logits,
        outLogits,
        queries: Q,
        seen: r.seen,
        alpha: cfg.alpha,
        beta: cfg.beta,
        valid,
      });

      await next("inference", () => [["ens.mask_cls_results", onHost([1, Q, K + 1], ens.maskClsResults)]]);
      const [, , h4, w4] = dec.pred_masks.shape as [number, number, number, number];
      const seg = await inference(
        e,
        own(dec.pred_masks.reshape([Q, h4, w4])),
        ens.maskClsResults,
        r.vocab,
        { low: [h4, w4], padded, cropped: pre.imageSize, original: pre.originalSize },
        {
          tasks: r.tasks,
          overlapThreshold: cfg.overlapThreshold,
          objectMaskThreshold: cfg.objectMaskThreshold,
          detectionsPerImage: cfg.detectionsPerImage,
          semanticBeforeInference: cfg.semanticBeforeInference,
        },
      );
      await next(null);
      return seg;
    } finally {
      for (const t of live) t.dispose();
    }
  }
}
