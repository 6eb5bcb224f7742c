import { ClipTokenizer, TokenizerError } from "@fcclip/text-encoder";
import { FcclipError } from "../errors.js";
import {
  mergeVocabularies,
  parseInlineVocabulary,
  seenMask,
  type Vocabulary,
  type VocabularyMeta,
  vocabularyFromFile,
} from "../vocabulary/vocabulary.js";

/** A data file that cannot be read: the message names it and says where FC-CLIP's data files go. */
export class DataFileError extends FcclipError {
  override name = "DataFileError";
}

/**
 * FC-CLIP's data files, laid out as in its repository, in one folder that the CLI, evaluation and the browser app
 * all read the same way.
 */
export const DATA_FILES = {
  tokenizer: "tokenizer/bpe_simple_vocab_16e6.txt.gz",
  vocabulary: (name: string) => `vocab/${name}_with_prompt_eng.txt`,
  meta: (name: string) => `vocab/meta/${name}.json`,
} as const;

/** FC-CLIP's training vocabulary: its synonyms decide seen (α) versus unseen (β) classes. */
export const TRAINING_VOCABULARY = "coco_panoptic";

/** The official vocabularies with thing/stuff metadata, and COCO + ADE20K-150 merged (ADE classes not in COCO). */
export const PRESETS = ["coco_panoptic", "ade20k_150", "coco_ade20k"] as const;
export type Preset = (typeof PRESETS)[number];

const isPreset = (spec: string): spec is Preset => (PRESETS as readonly string[]).includes(spec);
const OFFICIAL: Record<Preset, readonly ("coco_panoptic" | "ade20k_150")[]> = {
  coco_panoptic: ["coco_panoptic"],
  ade20k_150: ["ade20k_150"],
  coco_ade20k: ["coco_panoptic", "ade20k_150"],
};

/** Reads `path` (relative to the data folder); `what` names the file for the error message. */
export type DataReader = (path: string, what: string) => Promise<Uint8Array>;

/** FC-CLIP's data folder behind a reader: a directory in Node (directoryData), a URL in a browser (urlData). */
export class DataFolder {
  private readonly texts = new Map<string, Promise<string>>();

  constructor(private readonly read: DataReader) {}

  /** Every file that a run with vocabulary `spec` reads: the tokenizer, the training vocabulary and a preset's files. */
  static requiredFiles(spec: string): string[] {
    const files = new Set<string>([DATA_FILES.tokenizer, DATA_FILES.vocabulary(TRAINING_VOCABULARY)]);
    for (const name of isPreset(spec) ? OFFICIAL[spec] : []) {
      files.add(DATA_FILES.vocabulary(name));
      files.add(DATA_FILES.meta(name));
    }
    return [...files];
  }

  private text(path: string, what: string): Promise<string> {
    let t = this.texts.get(path);
    if (!t) {
      t = this.read(path, what).then((b) => new TextDecoder().decode(b));
      // A failed read is not remembered: the file may be put in place before the next try.
      t.catch(() => this.texts.delete(path));
      this.texts.set(path, t);
    }
    return t;
  }

  async tokenizer(): Promise<ClipTokenizer> {
    const bytes = await this.read(DATA_FILES.tokenizer, "the CLIP BPE vocabulary");
    // A web server may send the file with Content-Encoding: gzip, and the browser has then already unpacked it.
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) return ClipTokenizer.fromGzip(bytes);
    try {
      return new ClipTokenizer(new TextDecoder().decode(bytes));
    } catch (e) {
      if (!(e instanceof TokenizerError)) throw e;
      throw new TokenizerError(`the BPE vocabulary is not gzip data, nor its unpacked text (${e.message})`);
    }
  }

  /** An official vocabulary with its thing/stuff flags. */
  async official(name: "coco_panoptic" | "ade20k_150"): Promise<Vocabulary> {
    const text = await this.text(DATA_FILES.vocabulary(name), `the ${name} vocabulary`);
    const meta = JSON.parse(await this.text(DATA_FILES.meta(name), `the ${name} metadata`)) as VocabularyMeta;
    return vocabularyFromFile(name, text, meta);
  }

  /** A preset name, or an inline list ("cat,kitty;sofa;stuff:sky"). */
  async vocabulary(spec: string): Promise<Vocabulary> {
    if (!isPreset(spec)) return parseInlineVocabulary(spec);
    const [first, second] = await Promise.all(OFFICIAL[spec].map((n) => this.official(n)));
    return second ? mergeVocabularies(spec, first!, second) : first!;
  }

  /** 1 per class whose synonyms FC-CLIP saw in training (COCO panoptic's names), else 0. */
  async seen(vocab: Vocabulary): Promise<Uint8Array> {
    const text = await this.text(DATA_FILES.vocabulary(TRAINING_VOCABULARY), "the COCO training vocabulary");
    const training = vocabularyFromFile(TRAINING_VOCABULARY, text);
    return seenMask(vocab, new Set(training.classes.flatMap((c) => c.synonyms)));
  }
}
