import { type Engine, packPositiveBits, type Tensor } from "@fcclip/tensor-core";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import type { ChunkTask, MaskLogitChunk, QueryStatistics } from "./mask-logit-stream.js";
import { type Rle, rleColumnMajor } from "./rle.js";

export interface InstancePrediction {
  score: number;
  category_id: number;
  area: number;
  /** COCO uncompressed RLE (column-major counts, starting with a run of zeros). */
  rle: Rle;
}

const f = Math.fround;

/**
 * instance_inference (FCCLIP-SPEC §7.5): the top `detectionsPerImage` (query, class) pairs by probability (ties to the
 * lower flat index), things only; each mask is 1[logit > 0], its score the class probability × the mean sigmoid
 * inside the mask.
 */
export class InstanceInference implements ChunkTask {
  private readonly top: { score: number; q: number; c: number }[];
  /** Per kept pair, its mask as bits (32 pixels per word, row-major). */
  private readonly bits: Uint32Array[];
  private readonly rows: Tensor | null = null;

  constructor(
    engine: Engine,
    prob: Float32Array,
    queries: number,
    private readonly size: [number, number],
    vocab: Vocabulary,
    private readonly stats: QueryStatistics,
    detectionsPerImage: number,
  ) {
    const K = vocab.classes.length;
    const flat: { score: number; q: number; c: number }[] = [];
    for (let q = 0; q < queries; q++) for (let c = 0; c < K; c++) flat.push({ score: prob[q * (K + 1) + c]!, q, c });
    flat.sort((a, b) => b.score - a.score || a.q * K + a.c - (b.q * K + b.c));
    this.top = flat.slice(0, detectionsPerImage).filter((t) => vocab.classes[t.c]!.isThing);
    const words = Math.ceil((size[0] * size[1]) / 32);
    this.bits = this.top.map(() => new Uint32Array(words));
    if (this.top.length) {
      this.rows = engine.tensor(
        Uint32Array.from(this.top, (t) => t.q),
        [this.top.length],
        "u32",
      );
    }
  }

  encode(c: MaskLogitChunk): Record<string, Tensor> {
    return this.rows ? { bits: packPositiveBits(c.logits, this.rows) } : {};
  }

  take(c: MaskLogitChunk, v: Record<string, Float32Array | Int32Array | Uint32Array>): void {
    if (!v.bits) return;
    const words = c.count / 32;
    for (const [j, b] of this.bits.entries()) b.set(v.bits.subarray(j * words, (j + 1) * words), c.p0 / 32);
  }

  /** The instances, by score, once the stream has ended. */
  result(): InstancePrediction[] {
    const [Ho, Wo] = this.size;
    const s = this.stats.sums;
    return this.top.map((t, j) => {
      const b = this.bits[j]!;
      const on = (y: number, x: number) => ((b[(y * Wo + x) >>> 5]! >>> ((y * Wo + x) & 31)) & 1) === 1;
      const maskScore = f(f(s[t.q * 3 + 1]!) / f(f(s[t.q * 3 + 2]!) + 1e-6));
      return {
        score: f(t.score * maskScore),
        category_id: t.c,
        area: s[t.q * 3 + 2]!,
        rle: { size: [Ho, Wo], counts: rleColumnMajor(on, Ho, Wo) },
      };
    });
  }

  dispose(): void {
    this.rows?.dispose();
  }
}
