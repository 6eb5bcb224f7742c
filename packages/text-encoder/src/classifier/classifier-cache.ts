import { TextEncoderError } from "../errors.js";
import type { ClipTextEncoder } from "../transformer/text-encoder.js";
import { VILD_TEMPLATES } from "./templates.js";
import {
  buildTextClassifier,
  type PromptTokenizer,
  type TextClassifier,
  type TextClassifierOptions,
} from "./text-classifier.js";

/** Where text classifiers persist between runs: a folder in Node (@fcclip/core's directoryStore), IndexedDB in a browser. */
export interface ClassifierStore {
  get(key: string): Promise<Float32Array | undefined>;
  set(key: string, embeddings: Float32Array): Promise<void>;
}

/** Where a classifier came from: this cache's memory, the store, or the text tower just now. */
export type ClassifierSource = "memory" | "store" | "encoded";

async function sha256Hex(parts: readonly Uint8Array[]): Promise<string> {
  const total = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    total.set(p, o);
    o += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", total));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The one cache of text classifiers of a text tower: memory first, then an optional store, then the tower. Keys hash
 * the tower's weight fingerprint, the templates and the classes, so a store shared by several models or vocabularies
 * never returns another's classifier (keys written by earlier versions stay valid).
 */
export class TextClassifierCache {
  private readonly memory = new Map<string, TextClassifier>();

  /** tokenizer null: classifiers can only come from the store. */
  constructor(
    private readonly encoder: ClipTextEncoder,
    private readonly tokenizer: PromptTokenizer | null,
  ) {}

  async get(
    classes: readonly (readonly string[])[],
    opts: TextClassifierOptions & { store?: ClassifierStore } = {},
  ): Promise<{ classifier: TextClassifier; source: ClassifierSource }> {
    const templates = opts.templates ?? VILD_TEMPLATES;
    const key = await sha256Hex([
      this.encoder.fingerprint,
      new TextEncoder().encode(JSON.stringify(["fcclip-text-classifier/1", templates, classes])),
    ]);
    const rows = classes.reduce((s, c) => s + c.length, 0);
    const prompts = rows * templates.length;
    const hit = this.memory.get(key);
    if (hit) {
      opts.onProgress?.(prompts, prompts);
      return { classifier: hit, source: "memory" };
    }
    const dim = this.encoder.embedDim;
    const stored = await opts.store?.get(key);
    let classifier: TextClassifier;
    let source: ClassifierSource;
    // A stored array of the wrong length (a truncated write, an older layout) is ignored, not trusted.
    if (stored && stored.length === rows * dim) {
      classifier = { embeddings: stored, rows, dim, synonymsPerClass: classes.map((c) => c.length) };
      source = "store";
      opts.onProgress?.(prompts, prompts);
    } else {
      if (!this.tokenizer) {
        throw new TextEncoderError(
          "this classifier is not in the store, and no tokenizer was given to encode it: pass the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz)",
        );
      }
      classifier = await buildTextClassifier(this.encoder, this.tokenizer, classes, opts);
      source = "encoded";
      await opts.store?.set(key, classifier.embeddings);
    }
    this.memory.set(key, classifier);
    return { classifier, source };
  }
}
