import { TextEncoderError } from "../errors.js";
import { cleanText } from "./clean.js";

/** The vocabulary file is not open_clip's, or text produced a symbol it lacks. */
export class TokenizerError extends TextEncoderError {
  override name = "TokenizerError";
}

export const SOT = 49406;
export const EOT = 49407;
export const CONTEXT_LENGTH = 77;
const NUM_MERGES = 49152 - 256 - 2;

const PATTERN = /<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** Bytes in vocabulary order: the 188 printable ones (which map to themselves), then the other 68. */
function bytesInVocabOrder(): number[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const rest = [...Array(256).keys()].filter((b) => !printable.includes(b));
  return [...printable, ...rest];
}

/** CLIP's byte → symbol table: printable bytes are their own code point, the rest map to U+0100 onwards. */
function byteSymbols(order: readonly number[]): string[] {
  const table = new Array<string>(256);
  order.forEach((b, i) => {
    table[b] = String.fromCodePoint(i < 188 ? b : 256 + i - 188);
  });
  return table;
}

/** open_clip's SimpleTokenizer over the 49,408-token vocabulary built from `bpe_simple_vocab_16e6.txt(.gz)`. */
export class ClipTokenizer {
  private readonly byteToSymbol = byteSymbols(bytesInVocabOrder());
  private readonly encoder = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();

  /** `merges`: the vocabulary file's text (decompressed). */
  constructor(merges: string) {
    const lines = merges.split("\n").slice(1, NUM_MERGES + 1);
    if (lines.length !== NUM_MERGES || lines.some((l) => l.split(" ").length !== 2)) {
      throw new TokenizerError(
        `the BPE vocabulary has ${lines.length} merge lines (${NUM_MERGES} expected): pass open_clip's bpe_simple_vocab_16e6.txt.gz`,
      );
    }
    const order = bytesInVocabOrder().map((b) => this.byteToSymbol[b]!);
    const vocab = [
      ...order,
      ...order.map((s) => `${s}</w>`),
      ...lines.map((l) => l.replace(" ", "")),
      "<start_of_text>",
      "<end_of_text>",
    ];
    vocab.forEach((v, i) => {
      this.encoder.set(v, i);
    });
    lines.forEach((l, i) => {
      this.ranks.set(l, i);
    });
    this.cache.set("<start_of_text>", [SOT]);
    this.cache.set("<end_of_text>", [EOT]);
  }

  /** Reads the gzip'd vocabulary (bytes of bpe_simple_vocab_16e6.txt.gz) in Node or a browser. */
  static async fromGzip(bytes: Uint8Array): Promise<ClipTokenizer> {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
    let text: string;
    try {
      text = await new Response(stream).text();
    } catch (e) {
      throw new TokenizerError(
        `the BPE vocabulary is not gzip data (${(e as Error).message}): pass bpe_simple_vocab_16e6.txt.gz`,
      );
    }
    return new ClipTokenizer(text);
  }

  private bpe(token: string): number[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    const ids = word.map((w) => {
      const id = this.encoder.get(w);
      if (id === undefined) throw new TokenizerError(`BPE symbol '${w}' is not in the vocabulary`);
      return id;
    });
    this.cache.set(token, ids);
    return ids;
  }

  /** Token ids of one text, without start/end tokens. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const m of cleanText(text).matchAll(PATTERN)) {
      const symbols = Array.from(new TextEncoder().encode(m[0]), (b) => this.byteToSymbol[b]!).join("");
      ids.push(...this.bpe(symbols));
    }
    return ids;
  }

  /** open_clip.tokenize: [SOT, ids…, EOT] zero-padded to 77; a longer text keeps 77 tokens with EOT last. */
  tokenize(texts: readonly string[], contextLength = CONTEXT_LENGTH): Int32Array {
    const out = new Int32Array(texts.length * contextLength);
    texts.forEach((t, i) => {
      let ids = [SOT, ...this.encode(t), EOT];
      if (ids.length > contextLength) {
        ids = ids.slice(0, contextLength);
        ids[contextLength - 1] = EOT;
      }
      out.set(ids, i * contextLength);
    });
    return out;
  }
}
