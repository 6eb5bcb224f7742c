import {
  mergeVocabularies,
  parseInlineVocabulary,
  type Vocabulary,
  VocabularyError,
  type VocabularyMeta,
  vocabularyFromFile,
} from "@fcclip/core";
import { ClipTokenizer } from "@fcclip/text-encoder";
import type { VocabularySpec } from "./protocol.js";

/**
 * FC-CLIP's data files, laid out as in its repository and served from one folder (the app's `data/` by default):
 * `vocab/<name>_with_prompt_eng.txt`, `vocab/meta/<name>.json`, `tokenizer/bpe_simple_vocab_16e6.txt.gz`.
 */
export class DataFiles {
  private readonly texts = new Map<string, Promise<string>>();

  constructor(readonly baseUrl: string) {}

  private url(path: string): string {
    return new URL(path, this.baseUrl).href;
  }

  private async bytes(path: string, what: string): Promise<Uint8Array> {
    const url = this.url(path);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new VocabularyError(`cannot fetch ${what} from ${url}: ${(e as Error).message}`);
    }
    if (!res.ok) {
      throw new VocabularyError(
        `cannot fetch ${what} from ${url} (HTTP ${res.status}): put FC-CLIP's data files in the app's data folder (see the README) or pass ?data=URL`,
      );
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  private text(path: string, what: string): Promise<string> {
    let t = this.texts.get(path);
    if (!t) {
      t = this.bytes(path, what).then((b) => new TextDecoder().decode(b));
      t.catch(() => this.texts.delete(path));
      this.texts.set(path, t);
    }
    return t;
  }

  async tokenizer(): Promise<ClipTokenizer> {
    const bytes = await this.bytes("tokenizer/bpe_simple_vocab_16e6.txt.gz", "the CLIP BPE vocabulary");
    // A server may send the file with Content-Encoding: gzip, and the browser has then already unpacked it.
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) return ClipTokenizer.fromGzip(bytes);
    return new ClipTokenizer(new TextDecoder().decode(bytes));
  }

  private async preset(name: "coco_panoptic" | "ade20k_150"): Promise<Vocabulary> {
    const text = await this.text(`vocab/${name}_with_prompt_eng.txt`, `the ${name} vocabulary`);
    const meta = JSON.parse(await this.text(`vocab/meta/${name}.json`, `the ${name} metadata`)) as VocabularyMeta;
    return vocabularyFromFile(name, text, meta);
  }

  async vocabulary(spec: VocabularySpec): Promise<Vocabulary> {
    if ("text" in spec) return parseInlineVocabulary(spec.text);
    if (spec.preset === "coco_ade20k") {
      return mergeVocabularies("coco_ade20k", await this.preset("coco_panoptic"), await this.preset("ade20k_150"));
    }
    return this.preset(spec.preset);
  }

  /** COCO panoptic's synonyms: FC-CLIP's training vocabulary, which decides seen (α) versus unseen (β). */
  async trainingSynonyms(): Promise<Set<string>> {
    return new Set((await this.preset("coco_panoptic")).classes.flatMap((c) => c.synonyms));
  }
}
