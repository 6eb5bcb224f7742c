import { TextEncoderError } from "../errors.js";
import type { ClipTokenizer } from "../tokenizer/bpe.js";
import { type ClipTextEncoder, endTokenPositions } from "../transformer/text-encoder.js";
import { VILD_TEMPLATES } from "./templates.js";

export interface TextClassifierOptions {
  templates?: readonly string[];
  /** Prompts per forward pass (FC-CLIP uses 128). */
  batchSize?: number;
  onProgress?: (donePrompts: number, totalPrompts: number) => void;
}

/** What the classifier needs of a tokenizer: ClipTokenizer, or prompt ids from elsewhere (a test's fixture). */
export type PromptTokenizer = Pick<ClipTokenizer, "tokenize">;

/** One unit vector per synonym, class after class (FCCLIP-SPEC §3.4 steps 1–4). */
export interface TextClassifier {
  /** [rows, dim] row-major. */
  embeddings: Float32Array;
  rows: number;
  dim: number;
  /** Synonyms per class (FC-CLIP's num_templates): class c owns the next synonymsPerClass[c] rows. */
  synonymsPerClass: number[];
}

function normaliseRow(v: Float32Array, off: number, dim: number): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += v[off + j]! * v[off + j]!;
  const n = Math.fround(Math.sqrt(Math.fround(s)));
  for (let j = 0; j < dim; j++) v[off + j] = Math.fround(v[off + j]! / n);
}

/**
 * FC-CLIP's text classifier: every synonym × template prompt through the text tower, each prompt embedding
 * L2-normalised, averaged over the templates, L2-normalised again. Every call encodes; TextClassifierCache keeps
 * the results.
 */
export async function buildTextClassifier(
  encoder: ClipTextEncoder,
  tokenizer: PromptTokenizer,
  classes: readonly (readonly string[])[],
  opts: TextClassifierOptions = {},
): Promise<TextClassifier> {
  const templates = opts.templates ?? VILD_TEMPLATES;
  if (classes.length === 0 || classes.some((c) => c.length === 0 || c.some((s) => s.trim() === ""))) {
    throw new TextEncoderError("text classifier: every class needs at least one non-empty name");
  }
  if (templates.length === 0 || templates.some((t) => !t.includes("{}"))) {
    throw new TextEncoderError("text classifier: templates must be non-empty and contain '{}'");
  }
  const synonyms = classes.flat();
  const prompts = synonyms.flatMap((s) => templates.map((t) => t.replace("{}", s)));
  const dim = encoder.embedDim;
  const T = templates.length;
  const perPrompt = new Float32Array(prompts.length * dim);
  const batch = opts.batchSize ?? 128;
  // A batch runs up to its longest prompt's end token, so batches of similar lengths waste nothing on padding.
  // Each prompt's features do not depend on its batch-mates (causal attention), so the order changes no value.
  const tokens = tokenizer.tokenize(prompts);
  const ctx = tokens.length / prompts.length;
  const eot = endTokenPositions(tokens, prompts.length);
  const order = [...prompts.keys()].sort((i, j) => eot[i]! - eot[j]!);
  for (let start = 0; start < prompts.length; start += batch) {
    const rows = order.slice(start, start + batch);
    const ids = new Int32Array(rows.length * ctx);
    for (const [i, r] of rows.entries()) ids.set(tokens.subarray(r * ctx, (r + 1) * ctx), i * ctx);
    const y = encoder.encodeTokens(ids, rows.length);
    const out = await y.read();
    y.dispose();
    for (const [i, r] of rows.entries()) perPrompt.set(out.subarray(i * dim, (i + 1) * dim), r * dim);
    opts.onProgress?.(start + rows.length, prompts.length);
  }
  for (let p = 0; p < prompts.length; p++) normaliseRow(perPrompt, p * dim, dim);
  const embeddings = new Float32Array(synonyms.length * dim);
  for (let s = 0; s < synonyms.length; s++) {
    for (let j = 0; j < dim; j++) {
      let acc = 0;
      for (let t = 0; t < T; t++) acc = Math.fround(acc + perPrompt[(s * T + t) * dim + j]!);
      embeddings[s * dim + j] = Math.fround(acc / T);
    }
    normaliseRow(embeddings, s * dim, dim);
  }
  return { embeddings, rows: synonyms.length, dim, synonymsPerClass: classes.map((c) => c.length) };
}
