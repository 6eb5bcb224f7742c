import { loadVisualBackbone, type RgbImage, type VisualBackbone } from "@fcclip/clip";
import { FcclipTransformerDecoder, MSDeformAttnPixelDecoder } from "@fcclip/mask2former";
import { type Engine, type Tensor, toFloat32, uploadHost } from "@fcclip/tensor-core";
import {
  type ClassifierSource,
  type ClassifierStore,
  ClipTextEncoder,
  type ClipTokenizer,
  type TextClassifier,
  TextClassifierCache,
  TextEncoderError,
} from "@fcclip/text-encoder";
import { FcclipPipeline } from "../pipeline/fcclip-pipeline.js";
import type { FcclipStage, PipelineHooks, StageTensor } from "../pipeline/stages.js";
import type { Segmentation, Task } from "../postprocess/inference.js";
import { type Vocabulary, VocabularyError } from "../vocabulary/vocabulary.js";
import type { FcclipWeights } from "../weights/load.js";
import { DEFAULT_CONFIG, type FcclipConfig } from "./fcclip-config.js";
import { checkAdapterLimits } from "./limits.js";

export interface SegmentOptions {
  tasks?: readonly Task[];
  /** 1 per class seen in COCO training (α), 0 for unseen (β). */
  seen: Uint8Array;
  /** Keep the intermediates under the oracle's tensor names in the result (for --dump-tensors). */
  dump?: boolean;
  /** Each stage's wall time, the GPU synced at its end (pipeline/stages.ts). */
  onStage?: (stage: FcclipStage, ms: number) => void;
  /** Each intermediate under the oracle's names while it is alive (awaited; `dump` is built on it). */
  onTensor?: PipelineHooks["onTensor"];
}

export interface SegmentResult extends Segmentation {
  /** Name → [shape, data], only with `dump`. */
  tensors?: Map<string, { shape: number[]; data: Float32Array | Int32Array }>;
}

/** FC-CLIP: frozen CLIP (ConvNeXt or ResNet) + Mask2Former heads + in/out-of-vocabulary classifiers + geometric ensemble. */
export class FcclipModel {
  private readonly pipeline: FcclipPipeline;
  private readonly classifiers: TextClassifierCache;

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
    private readonly voidEmbedding: Tensor,
    clipTemperature: number,
  ) {
    this.classifiers = new TextClassifierCache(text, tokenizer);
    this.pipeline = new FcclipPipeline(engine, config, {
      visual,
      pixelDecoder,
      decoder,
      voidEmbedding,
      clipTemperature,
    });
  }

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
    const voidEmbedding = uploadHost(engine, await weights.read("void_embedding.weight"));
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
    );
  }

  /** The CLIP text tower (for prompt features of token ids; `textClassifier` builds the classifier from it). */
  get textEncoder(): ClipTextEncoder {
    return this.text;
  }

  /**
   * The vocabulary's text classifier (one unit row per synonym, FCCLIP-SPEC §3.4), from this model's memory, the
   * store, or the text tower just now (`source`). segment() asks for it too, so calling this first only moves the
   * encoding (with its progress) before the first image.
   */
  async textClassifier(
    vocab: Vocabulary,
    opts: { onProgress?: (done: number, total: number) => void; store?: ClassifierStore } = {},
  ): Promise<{ classifier: TextClassifier; source: ClassifierSource }> {
    try {
      return await this.classifiers.get(
        vocab.classes.map((c) => c.synonyms),
        opts,
      );
    } catch (e) {
      if (e instanceof TextEncoderError && !this.tokenizer) {
        throw new VocabularyError(
          `the classifier of vocabulary '${vocab.name}' is not in the store, and this model was loaded without a tokenizer: pass the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) to FcclipModel.load`,
        );
      }
      throw e;
    }
  }

  /** Segments one image with the vocabulary: semantic, panoptic and instance results (those in `tasks`). */
  async segment(img: RgbImage, vocab: Vocabulary, opts: SegmentOptions): Promise<SegmentResult> {
    const { classifier } = await this.textClassifier(vocab);
    const tensors = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
    const onTensor = async (name: string, t: StageTensor) => {
      if (opts.dump) tensors.set(name, { shape: [...t.shape], data: (await t.read()) as Float32Array });
      await opts.onTensor?.(name, t);
    };
    const seg = await this.pipeline.run(img, {
      classifier,
      vocab,
      seen: opts.seen,
      tasks: opts.tasks ?? ["panoptic", "semantic", "instance"],
      hooks: { onStage: opts.onStage, onTensor: opts.dump || opts.onTensor ? onTensor : undefined },
    });
    return opts.dump ? { ...seg, tensors } : seg;
  }

  dispose(): void {
    this.visual.dispose();
    this.text.dispose();
    this.pixelDecoder.dispose();
    this.decoder.dispose();
    this.voidEmbedding.dispose();
  }
}
