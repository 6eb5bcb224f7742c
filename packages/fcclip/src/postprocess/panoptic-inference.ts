import { type Engine, type Tensor, weightedSigmoidArgmax } from "@fcclip/tensor-core";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import type { ChunkTask, MaskLogitChunk, QueryStatistics } from "./mask-logit-stream.js";

export interface PanopticSegment {
  id: number;
  category_id: number;
  isthing: boolean;
  area: number;
  /** Class probability of the query that created the segment (merged stuff keeps the first query's). */
  score: number;
}

/**
 * panoptic_inference (FCCLIP-SPEC §7.4): queries whose best class is not void and scores above the threshold are
 * kept (in query order); each pixel goes to the kept query with the highest score·sigmoid (first on ties) if that
 * query's own mask is ≥ 0.5 there; segments whose kept area is under `overlapThreshold` of their mask's are dropped,
 * stuff of one class is merged.
 */
export class PanopticInference implements ChunkTask {
  private readonly kept: number[] = [];
  private readonly keptScore: number[] = [];
  private readonly keptLabel: number[] = [];
  /** Per pixel: index into `kept` (−1: none) and whether that query's own mask is ≥ 0.5 there. */
  private readonly id: Int32Array;
  private readonly flag: Uint8Array;
  private readonly rows: Tensor | null = null;
  private readonly scores: Tensor | null = null;

  constructor(
    engine: Engine,
    prob: Float32Array,
    queries: number,
    pixels: number,
    private readonly vocab: Vocabulary,
    private readonly stats: QueryStatistics,
    private readonly opts: { overlapThreshold: number; objectMaskThreshold: number },
  ) {
    const K = vocab.classes.length;
    for (let q = 0; q < queries; q++) {
      let best = 0;
      for (let c = 1; c <= K; c++) if (prob[q * (K + 1) + c]! > prob[q * (K + 1) + best]!) best = c;
      const score = prob[q * (K + 1) + best]!;
      if (best !== K && score > opts.objectMaskThreshold) {
        this.kept.push(q);
        this.keptScore.push(score);
        this.keptLabel.push(best);
      }
    }
    this.id = new Int32Array(pixels).fill(-1);
    this.flag = new Uint8Array(pixels);
    if (this.kept.length) {
      this.rows = engine.tensor(Uint32Array.from(this.kept), [this.kept.length], "u32");
      this.scores = engine.tensor(Float32Array.from(this.keptScore), [this.kept.length]);
    }
  }

  encode(c: MaskLogitChunk): Record<string, Tensor> {
    return this.rows ? weightedSigmoidArgmax(c.logits, this.rows, this.scores!) : {};
  }

  take(c: MaskLogitChunk, v: Record<string, Float32Array | Int32Array | Uint32Array>): void {
    if (!v.id) return;
    this.id.set(v.id.subarray(0, c.valid), c.p0);
    const fl = v.flag!;
    for (let i = 0; i < c.valid; i++) this.flag[c.p0 + i] = fl[i]!;
  }

  /** Segment id per pixel (0 = unassigned) and the segments, once the stream has ended. */
  result(): { ids: Int32Array; segments: PanopticSegment[] } {
    const { id, flag, kept } = this;
    const total = id.length;
    const ids = new Int32Array(total);
    const segments: PanopticSegment[] = [];
    const area = new Float64Array(kept.length);
    const selCount = new Float64Array(kept.length);
    for (let i = 0; i < total; i++) {
      const k = id[i]!;
      if (k >= 0) {
        area[k]!++;
        if (flag[i]) selCount[k]!++;
      }
    }
    const stuffId = new Map<number, number>();
    let next = 0;
    const assign = new Int32Array(kept.length);
    kept.forEach((q, k) => {
      const c = this.keptLabel[k]!;
      const isThing = this.vocab.classes[c]!.isThing;
      const origArea = this.stats.sums[q * 3]!;
      if (!(area[k]! > 0 && origArea > 0 && selCount[k]! > 0)) return;
      if (area[k]! / origArea < this.opts.overlapThreshold) return;
      if (!isThing && stuffId.has(c)) {
        assign[k] = stuffId.get(c)!;
        return;
      }
      if (!isThing) stuffId.set(c, next + 1);
      next++;
      assign[k] = next;
      segments.push({ id: next, category_id: c, isthing: isThing, area: 0, score: this.keptScore[k]! });
    });
    for (let i = 0; i < total; i++) {
      const k = id[i]!;
      if (k >= 0 && flag[i] && assign[k]) ids[i] = assign[k]!;
    }
    for (let i = 0; i < total; i++) if (ids[i]) segments[ids[i]! - 1]!.area++;
    return { ids, segments };
  }

  dispose(): void {
    this.rows?.dispose();
    this.scores?.dispose();
  }
}
