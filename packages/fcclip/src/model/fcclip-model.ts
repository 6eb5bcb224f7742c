import { loadVisualBackbone, type RgbImage, type VisualBackbone } from "@fcclip/clip";
import { FcclipTransformerDecoder, getClassificationLogits, MSDeformAttnPixelDecoder } from "@fcclip/mask2former";
import { type Engine, interpolate, ShapeError, type Tensor, toFloat32 } from "@fcclip/tensor-core";
import { buildTextClassifier, ClipTextEncoder, type ClipTokenizer, VILD_TEMPLATES } from "@fcclip/text-encoder";
import { inference, type Segmentation, type Task } from "../postprocess/inference.js";
import { preprocess } from "../preprocess/preprocess.js";
import { type Vocabulary, VocabularyError } from "../vocabulary/vocabulary.js";
import type { FcclipWeights } from "../weights/load.js";
import { geometricEnsemble } from "./ensemble.js";
import { checkAdapterLimits } from "./limits.js";

/** Inference settings; defaults are the official ADE20K/COCO eval config (FCCLIP-SPEC §7.6). */
export interface FcclipConfig {
  minSize: number;
  maxSize: number;
  sizeDivisibility: number;
  alpha: number;
  beta: number;
  /**
   * MODEL.FC_CLIP.ENSEMBLE_ON_VALID_MASK: a query whose mask is empty at the CLIP resolution uses the in-vocabulary
   * classifier only. Unset: as the official configs, true for ResNet CLIPs and false for ConvNeXt (FCCLIP-SPEC §6.4).
   */
  ensembleOnValidMask?: boolean;
  overlapThreshold: number;
  objectMaskThreshold: number;
  detectionsPerImage: number;
  /**
   * Resize mask logits before inference (SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE or panoptic or instance on in the
   * config); false for the semantic-only benchmarks, whose class maps are resized after inference.
   */
  semanticBeforeInference: boolean;
}

export const DEFAULT_CONFIG: FcclipConfig = {
  minSize: 800,
  maxSize: 1333,
  sizeDivisibility: 32,
  alpha: 0.4,
  beta: 0.8,
  overlapThreshold: 0.8,
  objectMaskThreshold: 0,
  detectionsPerImage: 100,
  semanticBeforeInference: true,
};

export interface SegmentOptions {
  tasks?: readonly Task[];
  /** 1 per class seen in COCO training (α), 0 for unseen (β). */
  seen: Uint8Array;
  /** Keep the intermediates under the oracle's tensor names (for --dump-tensors). */
  dump?: boolean;
  onStage?: (stage: string, ms: number) => void;
}

export interface SegmentResult extends Segmentation {
  /** Name → [shape, data], only with `dump`. */
  tensors?: Map<string, { shape: number[]; data: Float32Array | Int32Array }>;
}

/** Where text classifiers persist between runs: a folder in Node (directoryStore), IndexedDB in a browser. */
export interface ClassifierStore {
  get(key: string): Promise<Float32Array | undefined>;
  set(key: string, embeddings: Float32Array): Promise<void>;
}

async function sha256Bytes(parts: readonly Uint8Array[]): Promise<Uint8Array> {
  const total = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    total.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", total));
}

async function sha256Hex(parts: readonly Uint8Array[]): Promise<string> {
  return Array.from(await sha256Bytes(parts), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** FC-CLIP: frozen CLIP (ConvNeXt or ResNet) + Mask2Former heads + in/out-of-vocabulary classifiers + geometric ensemble. */
export class FcclipModel {
  private readonly classifiers = new Map<string, { embeddings: Tensor; synonymsPerClass: number[] }>();

  private constructor(
    readonly engine: Engine,
    readonly config: FcclipConfig,
    /** The frozen CLIP image tower. */
    readonly visual: VisualBackbone,
    private readonly text: ClipTextEncoder,
    /** null: classifiers only come from a ClassifierStore (no vocabulary can be encoded). */
    private readonly tokenizer: ClipTokenizer | null,
    private readonly pixelDecoder: MSDeformAttnPixelDecoder,
    private readonly decoder: FcclipTransformerDecoder,
    private readonly voidEmbedding: Float32Array,
    private readonly clipTemperature: number,
    /** Bytes that identify the text tower's weights (for persisted classifiers). */
    private readonly textFingerprint: Uint8Array,
  ) {}

  static async load(
    engine: Engine,
    weights: FcclipWeights,
    tokenizer: ClipTokenizer | null,
    config: Partial<FcclipConfig> = {},
  ): Promise<FcclipModel> {
    const a = weights.architecture;
    const cfg = { ...DEFAULT_CONFIG, ...config };
    // Fail before minutes of weight uploads, not in the middle of the first image.
    checkAdapterLimits(engine.limits, a, cfg);
    const clip = "backbone.clip_model.";
    const visual = await loadVisualBackbone(engine, weights, `${clip}visual.`);
    const text = await ClipTextEncoder.load(engine, weights, clip, {
      width: a.clip.textWidth,
      layers: a.clip.textLayers,
      heads: a.clip.textHeads,
      activation: a.clip.textActivation,
    });
    const pd = await MSDeformAttnPixelDecoder.load(engine, weights, "sem_seg_head.pixel_decoder.", {
      heads: a.pixelDecoder.heads,
      points: a.pixelDecoder.points,
      encoderLayers: a.pixelDecoder.encoderLayers,
    });
    const dec = await FcclipTransformerDecoder.load(engine, weights, "sem_seg_head.predictor.", {
      heads: a.decoder.heads,
      layers: a.decoder.layers,
    });
    const scale = toFloat32(await weights.read(`${clip}logit_scale`))[0]!;
    const voidEmbedding = toFloat32(await weights.read("void_embedding.weight"));
    const fingerprintParts = await Promise.all(
      [
        "text_projection",
        "ln_final.weight",
        "ln_final.bias",
        "positional_embedding",
        "transformer.resblocks.0.attn.in_proj_weight",
      ].map(async (k) => (await weights.read(`${clip}${k}`)).bytes),
    );
    const textFingerprint = await sha256Bytes(fingerprintParts);
    cfg.ensembleOnValidMask ??= visual.shape.family === "resnet";
    return new FcclipModel(
      engine,
      cfg,
      visual,
      text,
      tokenizer,
      pd,
      dec,
      voidEmbedding,
      Math.min(Math.exp(scale), 100),
      textFingerprint,
    );
  }

  /** The CLIP text tower (for prompt features of token ids; `textClassifier` builds the classifier from it). */
  get textEncoder(): ClipTextEncoder {
    return this.text;
  }

  /**
   * T' = [per-synonym text classifier; normalised void embedding] on the GPU, cached per vocabulary. `source` says
   * where it came from: this model's memory, the store, or the text tower just now.
   */
  async textClassifier(
    vocab: Vocabulary,
    opts: { onProgress?: (done: number, total: number) => void; store?: ClassifierStore } = {},
  ): Promise<{ embeddings: Tensor; synonymsPerClass: number[]; source: "memory" | "store" | "encoded" }> {
    const classes = vocab.classes.map((c) => c.synonyms);
    const key = JSON.stringify(classes);
    const hit = this.classifiers.get(key);
    if (hit) return { ...hit, source: "memory" };
    const synonymsPerClass = classes.map((c) => c.length);
    const rowsTotal = synonymsPerClass.reduce((a, b) => a + b, 0);
    const dim = this.text.embedDim;
    // Persisted classifiers are keyed by the text tower's weights, the classes and the templates.
    const storeKey = opts.store
      ? await sha256Hex([
          this.textFingerprint,
          new TextEncoder().encode(JSON.stringify(["fcclip-text-classifier/1", VILD_TEMPLATES, classes])),
        ])
      : "";
    let embeddings = opts.store ? await opts.store.get(storeKey) : undefined;
    if (embeddings && embeddings.length !== rowsTotal * dim) embeddings = undefined;
    const source = embeddings ? "store" : "encoded";
    if (embeddings) opts.onProgress?.(rowsTotal * VILD_TEMPLATES.length, rowsTotal * VILD_TEMPLATES.length);
    if (!embeddings) {
      if (!this.tokenizer) {
        throw new VocabularyError(
          `the classifier of vocabulary '${vocab.name}' is not in the store, and this model was loaded without a tokenizer: pass the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) to FcclipModel.load`,
        );
      }
      embeddings = (await buildTextClassifier(this.text, this.tokenizer, classes, { onProgress: opts.onProgress }))
        .embeddings;
      await opts.store?.set(storeKey, embeddings);
    }
    const clf = { embeddings, rows: rowsTotal, dim, synonymsPerClass };
    const n = Math.max(Math.hypot(...this.voidEmbedding), 1e-12);
    const rows = new Float32Array((clf.rows + 1) * clf.dim);
    rows.set(clf.embeddings);
    rows.set(
      this.voidEmbedding.map((v) => v / n),
      clf.rows * clf.dim,
    );
    const entry = {
      embeddings: this.engine.keep(this.engine.tensor(rows, [clf.rows + 1, clf.dim])),
      synonymsPerClass: clf.synonymsPerClass,
    };
    this.classifiers.set(key, entry);
    return { ...entry, source };
  }

  async segment(img: RgbImage, vocab: Vocabulary, opts: SegmentOptions): Promise<SegmentResult> {
    const e = this.engine;
    const cfg = this.config;
    const K = vocab.classes.length;
    if (opts.seen.length !== K)
      throw new ShapeError(`segment: the seen mask has ${opts.seen.length} entries for ${K} classes`);
    const tensors = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
    const dump = async (name: string, t: Tensor) => {
      if (opts.dump) tensors.set(name, { shape: [...t.shape], data: (await t.read()) as Float32Array });
    };
    // Stages carry the official module names. Each one's end is a sync only when timings are asked for (a hook
    // or a running profile); otherwise the work of consecutive stages overlaps with encoding.
    let t0 = performance.now();
    let current = "";
    const stage = async (next: string) => {
      if (current && opts.onStage) {
        await e.sync();
        opts.onStage(current, performance.now() - t0);
      }
      await e.stage(next);
      current = next;
      t0 = performance.now();
    };
    const clf = await this.textClassifier(vocab);
    await stage("backbone");
    const pre = preprocess(e, img, cfg);
    const feats = this.visual.denseFeatures(pre.images);
    const intermediates = !!opts.dump;
    await stage("pixel decoder");
    const pd = this.pixelDecoder.forward(feats, { intermediates });
    await stage("transformer decoder");
    const dec = await this.decoder.forward(pd.multi_scale_features, pd.mask_features, clf, { intermediates });
    await stage("classifiers");
    const [, Q, h4, w4] = dec.pred_masks.shape as [number, number, number, number];
    const dense = feats.clip_vis_dense;
    const mc = e.scope(() => interpolate(dec.pred_masks, { size: [dense.shape[2]!, dense.shape[3]!] }));
    const pooled = await this.visual.maskEmbeddings(dense, mc);
    const outAll = await getClassificationLogits(pooled.embeddings, clf, this.clipTemperature);
    const oov = intermediates ? { mc, pooled: pooled.pooled, emb: pooled.embeddings } : {};
    if (!intermediates) {
      pooled.pooled?.dispose();
      pooled.embeddings.dispose();
    }
    // ENSEMBLE_ON_VALID_MASK: which queries have a positive pixel at the CLIP resolution (the ResNet pool has read
    // the masks already and says so).
    let valid: Uint8Array | undefined;
    if (cfg.ensembleOnValidMask) {
      valid = pooled.nonEmpty;
      if (!valid) {
        const m = (await mc.read()) as Float32Array;
        const hw = dense.shape[2]! * dense.shape[3]!;
        valid = Uint8Array.from({ length: Q }, (_, q) => (m.subarray(q * hw, (q + 1) * hw).some((v) => v > 0) ? 1 : 0));
      }
    }
    if (!intermediates) mc.dispose();
    const outLogits = new Float32Array(Q * K);
    for (let q = 0; q < Q; q++) outLogits.set(outAll.subarray(q * (K + 1), q * (K + 1) + K), q * K);
    const ens = geometricEnsemble({
      inLogits: dec.pred_logits,
      outLogits,
      queries: Q,
      seen: opts.seen,
      alpha: cfg.alpha,
      beta: cfg.beta,
      valid,
    });
    await stage("post-processing");
    if (opts.dump) {
      await dump("input.images_tensor", pre.images);
      for (const k of ["res2", "res3", "res4", "res5", "clip_vis_dense"] as const)
        await dump(`backbone.${k}`, feats[k]);
      const pdi = pd.intermediates!;
      for (let l = 0; l < 3; l++) await dump(`pixel_decoder.input_proj.${l}`, pdi.input_proj[l]!);
      for (const [i, x] of pdi.encoder_layers.entries()) await dump(`pixel_decoder.encoder.layers.${i}`, x);
      await dump("pixel_decoder.fpn_out.0", pdi.fpn_out);
      await dump("pixel_decoder.mask_features", pd.mask_features);
      for (let l = 0; l < 3; l++) await dump(`pixel_decoder.multi_scale_features.${l}`, pd.multi_scale_features[l]!);
      // One entry per prediction head call (0 = the learnable queries, then after each layer), as the oracle numbers them.
      const di = dec.intermediates!;
      for (const [part, list] of Object.entries(di))
        for (const [n, x] of list.entries()) await dump(`decoder.${part}.${n}`, x);
      await dump("decoder.pred_masks", dec.pred_masks);
      await dump("oov.mask_for_pooling", oov.mc!);
      if (oov.pooled) await dump("oov.mask_pooled_clip_feature", oov.pooled);
      await dump("oov.pooled_clip_feature", oov.emb!);
      tensors.set("decoder.pred_logits", { shape: [1, Q, K + 1], data: dec.pred_logits });
      tensors.set("oov.out_vocab_logits", { shape: [1, Q, K], data: outLogits });
      tensors.set("ens.mask_cls_results", { shape: [1, Q, K + 1], data: ens.maskClsResults });
      // Reading the dumps back is not post-processing time.
      t0 = performance.now();
    }
    const seg = await inference(
      e,
      dec.pred_masks.reshape([Q, h4, w4]),
      ens.maskClsResults,
      vocab,
      {
        low: [h4, w4],
        padded: [pre.images.shape[2]!, pre.images.shape[3]!],
        cropped: pre.imageSize,
        original: pre.originalSize,
      },
      {
        tasks: opts.tasks ?? ["panoptic", "semantic", "instance"],
        overlapThreshold: cfg.overlapThreshold,
        objectMaskThreshold: cfg.objectMaskThreshold,
        detectionsPerImage: cfg.detectionsPerImage,
        semanticBeforeInference: cfg.semanticBeforeInference,
      },
    );
    await stage("");
    for (const t of [
      pre.images,
      feats.res2,
      feats.res3,
      feats.res4,
      feats.res5,
      pd.mask_features,
      ...pd.multi_scale_features,
      dec.pred_masks,
      ...Object.values(pd.intermediates ?? {}).flat(),
      ...Object.values(dec.intermediates ?? {}).flat(),
      ...[oov.mc, oov.pooled, oov.emb].filter((t) => t !== undefined),
    ])
      t.dispose();
    return opts.dump ? { ...seg, tensors } : seg;
  }

  dispose(): void {
    this.visual.dispose();
    this.text.dispose();
    this.pixelDecoder.dispose();
    this.decoder.dispose();
    for (const c of this.classifiers.values()) c.embeddings.dispose();
  }
}
