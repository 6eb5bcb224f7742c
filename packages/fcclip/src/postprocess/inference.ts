import {
  argmax,
  type Engine,
  resizeCropResize as finalMaskLogits,
  type ResizeCropGeometry as MaskGeometry,
  matmul,
  packPositiveBits as packPositive,
  weightedSigmoidArgmax as panopticAssign,
  maskStatistics as queryStatistics,
  type Tensor,
  unary,
} from "@fcclip/tensor-core";
import { softmaxRows } from "../model/softmax-rows.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import { type Rle, rleColumnMajor } from "./rle.js";

export type Task = "panoptic" | "semantic" | "instance";

export interface PanopticSegment {
  id: number;
  category_id: number;
  isthing: boolean;
  area: number;
  /** Class probability of the query that created the segment (merged stuff keeps the first query's). */
  score: number;
}

export interface InstancePrediction {
  score: number;
  category_id: number;
  area: number;
  /** COCO uncompressed RLE (column-major counts, starting with a run of zeros). */
  rle: Rle;
}

export interface Segmentation {
  height: number;
  width: number;
  /** Class index per pixel (argmax of the semantic scores), row-major. */
  semantic?: Int32Array;
  /** Segment id per pixel (0 = unassigned) and the segments. */
  panoptic?: { ids: Int32Array; segments: PanopticSegment[] };
  instances?: InstancePrediction[];
}

export interface InferenceOptions {
  tasks: readonly Task[];
  /** TEST.OVERLAP_THRESHOLD (0.8) and OBJECT_MASK_THRESHOLD (0.0). */
  overlapThreshold?: number;
  objectMaskThreshold?: number;
  /** TEST.DETECTIONS_PER_IMAGE (100). */
  detectionsPerImage?: number;
  /** Output pixels per GPU chunk (a multiple of 32). */
  chunk?: number;
  /**
   * TEST.SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE or'd with panoptic/instance being on: when false, the semantic map
   * is computed at the padded input resolution and the class-probability map is resized (FCCLIP-SPEC §7.2).
   */
  semanticBeforeInference?: boolean;
}

const f = Math.fround;

/**
 * FC-CLIP's semantic, panoptic and instance inference at the original resolution (FCCLIP-SPEC §7.3–7.5, with the
 * mask logits resized before inference as in the panoptic/instance configs), streaming over pixel chunks so memory
 * stays bounded for any image size.
 */
export async function inference(
  engine: Engine,
  lowMasks: Tensor,
  maskCls: Float32Array,
  vocab: Vocabulary,
  geo: MaskGeometry,
  opts: InferenceOptions,
): Promise<Segmentation> {
  const Q = lowMasks.shape[0]!;
  const K = vocab.classes.length;
  const [Ho, Wo] = geo.original;
  const total = Ho * Wo;
  const prob = softmaxRows(maskCls, Q, K + 1);
  const want = new Set(opts.tasks);

  // Panoptic: kept queries (label ≠ void, score > threshold), in query order.
  const kept: number[] = [];
  const keptScore: number[] = [];
  const keptLabel: number[] = [];
  for (let q = 0; q < Q; q++) {
    let best = 0;
    for (let c = 1; c <= K; c++) if (prob[q * (K + 1) + c]! > prob[q * (K + 1) + best]!) best = c;
    const score = prob[q * (K + 1) + best]!;
    if (best !== K && score > (opts.objectMaskThreshold ?? 0)) {
      kept.push(q);
      keptScore.push(score);
      keptLabel.push(best);
    }
  }
  // Instance: top-k over queries × classes (sorted by score, ties to the lower flat index), things only.
  const flat: { score: number; q: number; c: number }[] = [];
  for (let q = 0; q < Q; q++) for (let c = 0; c < K; c++) flat.push({ score: prob[q * (K + 1) + c]!, q, c });
  flat.sort((a, b) => b.score - a.score || a.q * K + a.c - (b.q * K + b.c));
  const top = flat.slice(0, opts.detectionsPerImage ?? 100).filter((t) => vocab.classes[t.c]!.isThing);
  const instQueries = top.map((t) => t.q);

  const semantic = want.has("semantic") ? new Int32Array(total) : undefined;
  const panId = new Int32Array(total).fill(-1);
  const panFlag = new Uint8Array(total);
  const stats = new Float64Array(Q * 3);
  const bits: Uint32Array[] = instQueries.map(() => new Uint32Array(Math.ceil(total / 32)));
  const weightsT = new Float32Array(K * Q);
  for (let q = 0; q < Q; q++) for (let c = 0; c < K; c++) weightsT[c * Q + q] = prob[q * (K + 1) + c]!;
  const chunk = opts.chunk ?? 65536;
  const before = opts.semanticBeforeInference ?? true;

  const classWeights = engine.tensor(weightsT, [K, Q]);
  const keptT = engine.tensor(Uint32Array.from(kept.length ? kept : [0]), [Math.max(1, kept.length)], "u32");
  const scoreT = engine.tensor(Float32Array.from(keptScore.length ? keptScore : [0]), [Math.max(1, kept.length)]);
  const instT = engine.tensor(
    Uint32Array.from(instQueries.length ? instQueries : [0]),
    [Math.max(1, instQueries.length)],
    "u32",
  );
  try {
    for (let p0 = 0; p0 < total; p0 += chunk) {
      const valid = Math.min(chunk, total - p0);
      const count = Math.ceil(valid / 32) * 32;
      const reads = engine.scope(() => {
        const logits = finalMaskLogits(lowMasks, geo, p0, count);
        const out: Record<string, Tensor> = { stats: queryStatistics(logits, valid) };
        if (semantic) {
          const probs = before ? unary(logits, "sigmoid") : finalMaskLogits(lowMasks, geo, p0, count, true);
          out.semantic = argmax(matmul(classWeights, probs), 0);
        }
        if (want.has("panoptic") && kept.length) Object.assign(out, panopticAssign(logits, keptT, scoreT));
        if (want.has("instance") && instQueries.length) out.bits = packPositive(logits, instT);
        return out;
      });
      const s = await reads.stats!.read();
      for (let i = 0; i < s.length; i++) stats[i] = stats[i]! + s[i]!;
      if (reads.semantic) semantic!.set((await reads.semantic.read()).subarray(0, valid), p0);
      if (reads.id) {
        panId.set((await reads.id.read()).subarray(0, valid), p0);
        const fl = await reads.flag!.read();
        for (let i = 0; i < valid; i++) panFlag[p0 + i] = fl[i]!;
      }
      if (reads.bits) {
        const b = (await reads.bits.read()) as Uint32Array;
        const words = count / 32;
        for (let j = 0; j < instQueries.length; j++) bits[j]!.set(b.subarray(j * words, j * words + words), p0 / 32);
      }
      for (const t of Object.values(reads)) t.dispose();
    }
  } finally {
    for (const t of [classWeights, keptT, scoreT, instT]) t.dispose();
  }

  const result: Segmentation = { height: Ho, width: Wo };
  if (semantic) result.semantic = semantic;
  if (want.has("panoptic")) {
    const ids = new Int32Array(total);
    const segments: PanopticSegment[] = [];
    const area = new Float64Array(kept.length);
    const selCount = new Float64Array(kept.length);
    for (let i = 0; i < total; i++) {
      const k = panId[i]!;
      if (k >= 0) {
        area[k]!++;
        if (panFlag[i]) selCount[k]!++;
      }
    }
    const stuffId = new Map<number, number>();
    let next = 0;
    const assign = new Int32Array(kept.length);
    kept.forEach((q, k) => {
      const c = keptLabel[k]!;
      const isThing = vocab.classes[c]!.isThing;
      const origArea = stats[q * 3]!;
      if (!(area[k]! > 0 && origArea > 0 && selCount[k]! > 0)) return;
      if (area[k]! / origArea < (opts.overlapThreshold ?? 0.8)) return;
      if (!isThing && stuffId.has(c)) {
        assign[k] = stuffId.get(c)!;
        return;
      }
      if (!isThing) stuffId.set(c, next + 1);
      next++;
      assign[k] = next;
      segments.push({ id: next, category_id: c, isthing: isThing, area: 0, score: keptScore[k]! });
    });
    for (let i = 0; i < total; i++) {
      const k = panId[i]!;
      if (k >= 0 && panFlag[i] && assign[k]) ids[i] = assign[k]!;
    }
    for (let i = 0; i < total; i++) if (ids[i]) segments[ids[i]! - 1]!.area++;
    result.panoptic = { ids, segments };
  }
  if (want.has("instance")) {
    result.instances = top.map((t, j) => {
      const b = bits[j]!;
      const on = (y: number, x: number) => ((b[(y * Wo + x) >>> 5]! >>> ((y * Wo + x) & 31)) & 1) === 1;
      const maskScore = f(f(stats[t.q * 3 + 1]!) / f(f(stats[t.q * 3 + 2]!) + 1e-6));
      return {
        score: f(t.score * maskScore),
        category_id: t.c,
        area: stats[t.q * 3 + 2]!,
        rle: { size: [Ho, Wo] as [number, number], counts: rleColumnMajor(on, Ho, Wo) },
      };
    });
  }
  return result;
}
