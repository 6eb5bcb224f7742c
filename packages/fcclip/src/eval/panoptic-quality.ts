/**
 * Panoptic quality as panopticapi computes it (`pq_compute_single_core`, `PQStat.pq_average`; FCCLIP-SPEC §10.1):
 * same-category pairs with IoU > 0.5 match, VOID (id 0) pixels leave the union, crowd ground truth is never matched
 * and predictions lying mostly on VOID or a same-category crowd region are not false positives.
 */

import { FcclipError } from "../errors.js";

/** Segment id 0 of a panoptic PNG: unlabeled pixels. */
export const VOID = 0;

export interface PanopticCategory {
  /** The dataset's category id (what segments_info holds). */
  id: number;
  name: string;
  isthing: boolean;
}

export interface PanopticSegmentInfo {
  id: number;
  category_id: number;
  iscrowd?: number;
  /** Ground truth: the annotation's area (panopticapi uses it, not the PNG's pixel count); the pixel count when absent. */
  area?: number;
}

/** One image's panoptic map: a segment id per pixel (row-major) and the segments. */
export interface PanopticAnnotation {
  ids: ArrayLike<number>;
  segments: readonly PanopticSegmentInfo[];
}

/** Per-category accumulators: summed IoU of matches, true/false positives, false negatives. */
export interface PqCategoryStat {
  iou: number;
  tp: number;
  fp: number;
  fn: number;
}

/** Statistics by dataset category id; sums over images with {@link addPqStat}. */
export type PqStat = Map<number, PqCategoryStat>;

/** A prediction panopticapi would refuse (its KeyErrors): ids and segments_info disagree, or an unknown category. */
export class PanopticFormatError extends FcclipError {
  override name = "PanopticFormatError";
}

function stat(s: PqStat, category: number): PqCategoryStat {
  let c = s.get(category);
  if (!c) {
    c = { iou: 0, tp: 0, fp: 0, fn: 0 };
    s.set(category, c);
  }
  return c;
}

/** Dense index per distinct id along a scan; consecutive equal ids (most pixels) skip the map lookup. */
function indexer(segments: readonly PanopticSegmentInfo[]) {
  const index = new Map<number, number>([[VOID, 0]]);
  segments.forEach((s, i) => {
    index.set(s.id, i + 1);
  });
  return index;
}

/** panopticapi's statistics of one image. `categories` are the dataset's category ids. */
export function pqComputeSingle(
  gt: PanopticAnnotation,
  pred: PanopticAnnotation,
  categories: ReadonlySet<number>,
  imageId: string | number = "?",
): PqStat {
  const n = gt.ids.length;
  if (pred.ids.length !== n)
    throw new PanopticFormatError(
      `image ${imageId}: the prediction has ${pred.ids.length} pixels, the ground truth ${n}`,
    );
  const gtIndex = indexer(gt.segments);
  const predIndex = indexer(pred.segments);
  // Ground-truth ids missing from segments_info are neither VOID nor a segment: one extra slot holds them.
  const G = gt.segments.length + 2;
  const P = pred.segments.length + 1;
  const pairs = new Float64Array(G * P);
  let lastG = Number.NaN;
  let lastP = Number.NaN;
  let gi = 0;
  let pi = 0;
  for (let i = 0; i < n; i++) {
    const g = gt.ids[i]!;
    const p = pred.ids[i]!;
    if (g !== lastG) {
      lastG = g;
      gi = gtIndex.get(g) ?? G - 1;
    }
    if (p !== lastP) {
      lastP = p;
      const found = predIndex.get(p);
      if (found === undefined)
        throw new PanopticFormatError(
          `image ${imageId}: segment ${p} is in the PNG and not in segments_info (write every segment, or 0 for none)`,
        );
      pi = found;
    }
    pairs[gi * P + pi]!++;
  }
  const predArea = new Float64Array(P);
  for (let g = 0; g < G; g++) for (let p = 0; p < P; p++) predArea[p]! += pairs[g * P + p]!;
  const missing = pred.segments.filter((_, j) => predArea[j + 1] === 0).map((s) => s.id);
  if (missing.length)
    throw new PanopticFormatError(
      `image ${imageId}: segments ${missing.join(", ")} are in segments_info, not in the PNG`,
    );
  for (const s of pred.segments)
    if (!categories.has(s.category_id))
      throw new PanopticFormatError(`image ${imageId}: segment ${s.id} has unknown category_id ${s.category_id}`);

  const gtPixels = (g: number) => {
    let a = 0;
    for (let p = 0; p < P; p++) a += pairs[g * P + p]!;
    return a;
  };
  const out: PqStat = new Map();
  const gtMatched = new Uint8Array(G);
  const predMatched = new Uint8Array(P);
  // panopticapi visits pairs in ascending (gt id, pred id) order; keep it so IoU sums add up in the same order.
  const gtOrder = gt.segments.map((s, j) => ({ id: s.id, j: j + 1 })).sort((a, b) => a.id - b.id);
  const predOrder = pred.segments.map((s, j) => ({ id: s.id, j: j + 1 })).sort((a, b) => a.id - b.id);
  for (const { j: g } of gtOrder) {
    const gs = gt.segments[g - 1]!;
    if (gs.iscrowd === 1) continue;
    for (const { j: p } of predOrder) {
      const inter = pairs[g * P + p]!;
      if (inter === 0) continue;
      const ps = pred.segments[p - 1]!;
      if (gs.category_id !== ps.category_id) continue;
      const union = predArea[p]! + (gs.area ?? gtPixels(g)) - inter - pairs[p]!;
      const iou = inter / union;
      if (iou > 0.5) {
        const c = stat(out, gs.category_id);
        c.tp++;
        c.iou += iou;
        gtMatched[g] = 1;
        predMatched[p] = 1;
      }
    }
  }
  // Only the last crowd segment of a category counts for it, as in panopticapi.
  const crowdOf = new Map<number, number>();
  gt.segments.forEach((gs, j) => {
    if (gtMatched[j + 1]) return;
    if (gs.iscrowd === 1) crowdOf.set(gs.category_id, j + 1);
    else stat(out, gs.category_id).fn++;
  });
  pred.segments.forEach((ps, j) => {
    const p = j + 1;
    if (predMatched[p]) return;
    let ignored = pairs[p]!;
    const crowd = crowdOf.get(ps.category_id);
    if (crowd !== undefined) ignored += pairs[crowd * P + p]!;
    if (ignored / predArea[p]! > 0.5) return;
    stat(out, ps.category_id).fp++;
  });
  return out;
}

/** Adds `from` into `into`. */
export function addPqStat(into: PqStat, from: PqStat): PqStat {
  for (const [c, s] of from) {
    const t = stat(into, c);
    t.iou += s.iou;
    t.tp += s.tp;
    t.fp += s.fp;
    t.fn += s.fn;
  }
  return into;
}

export interface PqClassResult {
  pq: number;
  sq: number;
  rq: number;
}

export interface PqAverage extends PqClassResult {
  /** Categories averaged (those with TP + FP + FN > 0). With none, pq/sq/rq are NaN (panopticapi divides by 0). */
  n: number;
  perClass: Map<number, PqClassResult>;
}

/**
 * `PQStat.pq_average` over the categories `include` keeps (all, things, stuff, or the vocabulary's seen/unseen
 * classes); a category without TP, FP or FN is reported as 0 and left out of the mean.
 */
export function pqAverage(
  s: PqStat,
  categories: readonly PanopticCategory[],
  include: (c: PanopticCategory) => boolean = () => true,
): PqAverage {
  let pq = 0;
  let sq = 0;
  let rq = 0;
  let n = 0;
  const perClass = new Map<number, PqClassResult>();
  for (const cat of categories) {
    if (!include(cat)) continue;
    const { iou, tp, fp, fn } = s.get(cat.id) ?? { iou: 0, tp: 0, fp: 0, fn: 0 };
    if (tp + fp + fn === 0) {
      perClass.set(cat.id, { pq: 0, sq: 0, rq: 0 });
      continue;
    }
    n++;
    const c = { pq: iou / (tp + 0.5 * fp + 0.5 * fn), sq: tp ? iou / tp : 0, rq: tp / (tp + 0.5 * fp + 0.5 * fn) };
    perClass.set(cat.id, c);
    pq += c.pq;
    sq += c.sq;
    rq += c.rq;
  }
  return { pq: pq / n, sq: sq / n, rq: rq / n, n, perClass };
}
