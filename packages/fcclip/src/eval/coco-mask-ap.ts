/**
 * COCO mask AP as pycocotools' `COCOeval` (iouType "segm") computes it: greedy matching by score per image and
 * category at IoU 0.50:0.05:0.95, crowd ground truth matched by intersection over the detection's area and never
 * used up, 101-point interpolated precision, at most 100 detections per image and category.
 */
import { rleArea, rleIntersection } from "./coco-rle.js";

/** np.linspace as numpy computes it (i·step + start, the last value exactly `stop`), so thresholds compare alike. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

export const IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
export const RECALL_THRESHOLDS = linspace(0, 1, 101);
/** pycocotools' area ranges: all, small (< 32²), medium, large (> 96²), bounds inclusive. */
export const AREA_RANGES: readonly (readonly [string, number, number])[] = [
  ["all", 0, 1e5 ** 2],
  ["small", 0, 32 ** 2],
  ["medium", 32 ** 2, 96 ** 2],
  ["large", 96 ** 2, 1e5 ** 2],
];
export const MAX_DETECTIONS = 100;

export interface CocoGroundTruth {
  category_id: number;
  iscrowd: boolean;
  /** The annotation's `area` (decides the area range). */
  area: number;
  /** Column-major COCO RLE counts. */
  counts: readonly number[];
}

export interface CocoDetection {
  category_id: number;
  score: number;
  counts: readonly number[];
}

/**
 * pycocotools' `evaluateImg` result for one image, category and area range, reduced to what `accumulate` reads:
 * the kept detections' scores (best first) and, per detection, bit t set when it matched at IOU_THRESHOLDS[t] /
 * is ignored there; `npig` counts the ground truth that is not ignored.
 */
export interface ImageCategoryEval {
  category_id: number;
  /** Index into AREA_RANGES. */
  area: number;
  scores: number[];
  matched: number[];
  ignored: number[];
  npig: number;
}

/** Stable order of indices by descending score (numpy's mergesort of -score). */
function byScore<T extends { score: number }>(xs: readonly T[]): T[] {
  return xs
    .map((x, i) => ({ x, i }))
    .sort((a, b) => b.x.score - a.x.score || a.i - b.i)
    .map((e) => e.x);
}

/** pycocotools' `computeIoU` + `evaluateImg` for every category and area range present in one image. */
export function evaluateImage(
  gts: readonly CocoGroundTruth[],
  dts: readonly CocoDetection[],
  maxDets = MAX_DETECTIONS,
): ImageCategoryEval[] {
  const cats = [...new Set([...gts.map((g) => g.category_id), ...dts.map((d) => d.category_id)])].sort((a, b) => a - b);
  const out: ImageCategoryEval[] = [];
  const T = IOU_THRESHOLDS.length;
  for (const cat of cats) {
    const g0 = gts.filter((g) => g.category_id === cat);
    const dt = byScore(dts.filter((d) => d.category_id === cat)).slice(0, maxDets);
    const dtArea = dt.map((d) => rleArea(d.counts));
    const gArea = g0.map((g) => rleArea(g.counts));
    // ious[d][g] in the original ground-truth order, as computeIoU leaves them.
    const ious = dt.map((d, i) =>
      g0.map((g, j) => {
        const inter = rleIntersection(d.counts, g.counts);
        if (inter === 0) return 0;
        return inter / (g.iscrowd ? dtArea[i]! : dtArea[i]! + gArea[j]! - inter);
      }),
    );
    for (let a = 0; a < AREA_RANGES.length; a++) {
      const [, lo, hi] = AREA_RANGES[a]!;
      const gIgnore = g0.map((g) => g.iscrowd || g.area < lo || g.area > hi);
      // Ignored ground truth last, stable.
      const order = g0.map((_, j) => j).sort((x, y) => Number(gIgnore[x]) - Number(gIgnore[y]) || x - y);
      const gtIg = order.map((j) => gIgnore[j]!);
      const crowd = order.map((j) => g0[j]!.iscrowd);
      const matched = new Array<number>(dt.length).fill(0);
      const ignored = new Array<number>(dt.length).fill(0);
      for (let t = 0; t < T; t++) {
        const gtm = new Uint8Array(order.length);
        for (let d = 0; d < dt.length; d++) {
          let best = Math.min(IOU_THRESHOLDS[t]!, 1 - 1e-10);
          let m = -1;
          for (let k = 0; k < order.length; k++) {
            if (gtm[k] && !crowd[k]) continue;
            if (m > -1 && !gtIg[m] && gtIg[k]) break;
            const iou = ious[d]![order[k]!]!;
            if (iou < best) continue;
            best = iou;
            m = k;
          }
          if (m === -1) continue;
          if (gtIg[m]) ignored[d]! |= 1 << t;
          matched[d]! |= 1 << t;
          gtm[m] = 1;
        }
      }
      // Unmatched detections outside the area range are ignored too.
      for (let d = 0; d < dt.length; d++) {
        const outside = dtArea[d]! < lo || dtArea[d]! > hi;
        if (outside) ignored[d]! |= ~matched[d]! & ((1 << T) - 1);
      }
      out.push({
        category_id: cat,
        area: a,
        scores: dt.map((d) => d.score),
        matched,
        ignored,
        npig: gtIg.filter((x) => !x).length,
      });
    }
  }
  return out;
}

export interface MaskApResult {
  AP: number;
  AP50: number;
  AP75: number;
  APs: number;
  APm: number;
  APl: number;
  /** AP per category id (IoU 0.50:0.95, all areas); NaN where the category has no ground truth. */
  perClass: Map<number, number>;
}

/**
 * pycocotools' `accumulate` + `summarize` (the AP lines) over per-image results given in image order (ties between
 * images' scores keep that order, as numpy's stable sort does). `categoryIds` are all of the dataset's categories.
 * A value without any ground truth is NaN (pycocotools prints -1).
 */
export function maskAp(
  perImage: readonly (readonly ImageCategoryEval[])[],
  categoryIds: readonly number[],
): MaskApResult {
  const T = IOU_THRESHOLDS.length;
  const R = RECALL_THRESHOLDS.length;
  const A = AREA_RANGES.length;
  const K = categoryIds.length;
  const kIndex = new Map(categoryIds.map((c, k) => [c, k]));
  const groups: ImageCategoryEval[][] = Array.from({ length: K * A }, () => []);
  for (const img of perImage)
    for (const e of img) {
      const k = kIndex.get(e.category_id);
      if (k !== undefined) groups[k * A + e.area]!.push(e);
    }
  // precision[((t * K + k) * A + a) * R + r], -1 where absent.
  const precision = new Float64Array(T * K * A * R).fill(-1);
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const E = groups[k * A + a]!;
      if (E.length === 0) continue;
      const npig = E.reduce((s, e) => s + e.npig, 0);
      if (npig === 0) continue;
      const dets: { score: number; matched: number; ignored: number }[] = [];
      for (const e of E)
        e.scores.forEach((score, i) => {
          dets.push({ score, matched: e.matched[i]!, ignored: e.ignored[i]! });
        });
      const sorted = byScore(dets);
      for (let t = 0; t < T; t++) {
        const bit = 1 << t;
        const rc: number[] = [];
        const pr: number[] = [];
        let tp = 0;
        let fp = 0;
        for (const d of sorted) {
          if (d.ignored & bit) {
            // Ignored detections neither count nor end the cumulative sums.
          } else if (d.matched & bit) tp++;
          else fp++;
          rc.push(tp / npig);
          pr.push(tp / (fp + tp + Number.EPSILON));
        }
        for (let i = pr.length - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
        const base = ((t * K + k) * A + a) * R;
        let pi = 0;
        for (let r = 0; r < R; r++) {
          // np.searchsorted(rc, recThr, side="left"): first index with rc >= threshold.
          while (pi < rc.length && rc[pi]! < RECALL_THRESHOLDS[r]!) pi++;
          precision[base + r] = pi < pr.length ? pr[pi]! : 0;
        }
      }
    }
  }
  const mean = (ts: readonly number[], ks: readonly number[], a: number) => {
    let s = 0;
    let n = 0;
    for (const t of ts)
      for (const k of ks)
        for (let r = 0; r < R; r++) {
          const v = precision[((t * K + k) * A + a) * R + r]!;
          if (v > -1) {
            s += v;
            n++;
          }
        }
    return n ? s / n : Number.NaN;
  };
  const allT = IOU_THRESHOLDS.map((_, t) => t);
  const allK = categoryIds.map((_, k) => k);
  return {
    AP: mean(allT, allK, 0),
    AP50: mean([0], allK, 0),
    AP75: mean([5], allK, 0),
    APs: mean(allT, allK, 1),
    APm: mean(allT, allK, 2),
    APl: mean(allT, allK, 3),
    perClass: new Map(categoryIds.map((c, k) => [c, mean(allT, [k], 0)])),
  };
}
