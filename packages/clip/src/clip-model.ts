import { type Engine, l2Normalize, type StateDict, TensorCoreError, toFloat32 } from "@fcclip/tensor-core";
import { ClipTextEncoder, type ClipTokenizer, type TextActivation, TextClassifierCache } from "@fcclip/text-encoder";
import { clipPreprocess } from "./image/clip-preprocess.js";
import type { RgbImage } from "./image/rgb-image.js";
import { loadVisualBackbone } from "./load-visual.js";
import type { VisualBackbone } from "./visual-backbone.js";

export interface ZeroShotResult {
  label: string;
  score: number;
}

export interface ClipModelOptions {
  /** Key prefix of the CLIP weights: "" for open_clip files, "backbone.clip_model." inside FC-CLIP weights. */
  prefix?: string;
  /** open_clip text_cfg.heads; defaults to width/64 as in every released model. */
  textHeads?: number;
  /**
   * The text MLP's activation. Defaults to quick_gelu for ResNet CLIPs (OpenAI's weights, loaded by open_clip with
   * quick_gelu=True) and exact GELU for ConvNeXt ones.
   */
  textActivation?: TextActivation;
}

/** A CLIP (ConvNeXt or ResNet image tower, text tower) for embeddings and zero-shot classification. */
export class ClipModel {
  private readonly classifiers: TextClassifierCache;

  private constructor(
    readonly engine: Engine,
    readonly visual: VisualBackbone,
    readonly text: ClipTextEncoder,
    readonly tokenizer: ClipTokenizer,
    /** min(exp(logit_scale), 100) */
    readonly logitScale: number,
  ) {
    this.classifiers = new TextClassifierCache(text, tokenizer);
  }

  static async load(
    engine: Engine,
    weights: StateDict,
    tokenizer: ClipTokenizer,
    opts: ClipModelOptions = {},
  ): Promise<ClipModel> {
    const prefix = opts.prefix ?? "";
    const pos = weights.info(`${prefix}positional_embedding`);
    if (!pos) throw new TensorCoreError(`no CLIP text tower under '${prefix}' in ${weights.source.name}`);
    const width = pos.shape[1]!;
    let layers = 0;
    while (weights.info(`${prefix}transformer.resblocks.${layers}.ln_1.weight`)) layers++;
    const heads = opts.textHeads ?? width / 64;
    if (!Number.isInteger(heads) || heads < 1) {
      throw new TensorCoreError(
        `text width ${width} is not a multiple of 64: pass textHeads from the open_clip model config`,
      );
    }
    const visual = await loadVisualBackbone(engine, weights, `${prefix}visual.`);
    const activation = opts.textActivation ?? (visual.shape.family === "resnet" ? "quick_gelu" : "gelu");
    const text = await ClipTextEncoder.load(engine, weights, prefix, { width, layers, heads, activation });
    const scale = toFloat32(await weights.read(`${prefix}logit_scale`))[0]!;
    return new ClipModel(engine, visual, text, tokenizer, Math.min(Math.exp(scale), 100));
  }

  /** Unit-norm image embedding of an RGB image, with open_clip's eval preprocessing (default: the tower's image size). */
  async embedImage(img: RgbImage, size = this.visual.imageSize): Promise<Float32Array> {
    const e = this.engine;
    const y = e.scope(() => l2Normalize(this.visual.encodeImage(clipPreprocess(e, img, size))));
    const v = await y.readFloat();
    y.dispose();
    return v;
  }

  /**
   * Zero-shot classification: softmax over logit_scale · cos(image, label). Each label may list synonyms separated by
   * ',' (the best synonym counts, as in FC-CLIP); each synonym is embedded with every template and averaged
   * (default: FC-CLIP's 14 templates). Sorted by score.
   */
  async classify(
    img: RgbImage,
    labels: readonly string[],
    opts: { templates?: readonly string[]; size?: number } = {},
  ): Promise<ZeroShotResult[]> {
    const classes = labels.map((l) =>
      l
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    );
    if (classes.length === 0 || classes.some((c) => c.length === 0))
      throw new TensorCoreError("classify: give at least one non-empty label");
    const image = await this.embedImage(img, opts.size);
    const { classifier: clf } = await this.classifiers.get(classes, { templates: opts.templates });
    const logits: number[] = [];
    let row = 0;
    for (const n of clf.synonymsPerClass) {
      let best = Number.NEGATIVE_INFINITY;
      for (let s = 0; s < n; s++, row++) {
        let dot = 0;
        for (let j = 0; j < clf.dim; j++) dot += image[j]! * clf.embeddings[row * clf.dim + j]!;
        best = Math.max(best, this.logitScale * dot);
      }
      logits.push(best);
    }
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    return classes.map((names, i) => ({ label: names[0]!, score: exps[i]! / sum })).sort((a, b) => b.score - a.score);
  }

  dispose(): void {
    this.visual.dispose();
    this.text.dispose();
  }
}
