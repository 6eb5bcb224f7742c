// Comparisons of a full-size run with the PyTorch reference (check.mjs) or with its committed digest (the bench).

/**
 * Max |a − b| over max |b|: the oracle's tolerance measure. NaN on both sides (the ResNet pool's empty masks) counts
 * as equal; NaN on one side only is an infinite error.
 */
export function relError(ours, ref) {
  let err = 0;
  let range = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = Number.isNaN(ours[i]);
    const b = Number.isNaN(ref[i]);
    if (a || b) {
      if (a !== b) err = Number.POSITIVE_INFINITY;
      continue;
    }
    err = Math.max(err, Math.abs(ours[i] - ref[i]));
    range = Math.max(range, Math.abs(ref[i]));
  }
  return range > 0 ? err / range : err;
}

/**
 * The digest's 32 sampled values, compared relative to the reference's range. NaNs (the ResNet pool's empty masks)
 * read as 0 there, so they do here, and their count must match (Infinity when it does not).
 */
export function digestError(ours, d) {
  let nans = 0;
  for (let i = 0; i < ours.length; i++) if (Number.isNaN(ours[i])) nans++;
  if (nans !== (d.nanCount ?? 0)) return Number.POSITIVE_INFINITY;
  const at = (i) => (Number.isNaN(ours[i]) ? 0 : ours[i]);
  return Math.max(...d.sampleIndex.map((i, j) => Math.abs(at(i) - d.samples[j]))) / (d.absMax || 1);
}

/** Fraction of pixels with the reference's class, counting only pixels whose top-2 scores are not tied. */
export function semanticAgreement(ours, ref, top1, top2, tie = 1e-4) {
  let same = 0;
  let counted = 0;
  for (let i = 0; i < ref.length; i++) {
    if (top1 && top1[i] - top2[i] <= tie) continue;
    counted++;
    if (ours[i] === ref[i]) same++;
  }
  return { agreement: counted ? same / counted : 1, counted };
}

/**
 * Each reference segment's best IoU among ours (with its class), and our segments that match none. Done when every
 * reference segment has a same-class match with IoU ≥ 0.95 and nothing is left over.
 */
export function matchPanoptic(oursIds, oursSegments, refIds, refSegments) {
  const inter = new Map();
  const areaOurs = new Map();
  const areaRef = new Map();
  for (let i = 0; i < refIds.length; i++) {
    const a = oursIds[i];
    const b = refIds[i];
    areaOurs.set(a, (areaOurs.get(a) ?? 0) + 1);
    areaRef.set(b, (areaRef.get(b) ?? 0) + 1);
    if (a && b) inter.set(`${a},${b}`, (inter.get(`${a},${b}`) ?? 0) + 1);
  }
  const cls = new Map(oursSegments.map((s) => [s.id, s.category_id]));
  const matched = new Set();
  const rows = refSegments.map((r) => {
    let best = { iou: 0, id: 0 };
    for (const s of oursSegments) {
      const n = inter.get(`${s.id},${r.id}`) ?? 0;
      const iou = n / ((areaOurs.get(s.id) ?? 0) + (areaRef.get(r.id) ?? 0) - n);
      if (iou > best.iou) best = { iou, id: s.id };
    }
    const ok = best.iou >= 0.95 && cls.get(best.id) === r.category_id;
    if (ok) matched.add(best.id);
    return { id: r.id, category_id: r.category_id, bestIoU: best.iou, oursClass: cls.get(best.id) ?? null, ok };
  });
  const extra = oursSegments.filter((s) => !matched.has(s.id)).map((s) => ({ id: s.id, category_id: s.category_id }));
  return { rows, extra, equal: rows.every((r) => r.ok) && extra.length === 0 };
}

/** Instances in score order: same classes and areas, scores within `tol` of the largest score. */
export function matchInstances(ours, ref, tol = 1e-3) {
  const scale = Math.max(...ref.map((r) => Math.abs(r.score)), 1e-12);
  const left = [...ours];
  const misses = [];
  let maxScoreError = 0;
  for (const r of ref) {
    let best = -1;
    for (let j = 0; j < left.length; j++) {
      if (left[j].category_id !== r.category_id) continue;
      if (best < 0 || Math.abs(left[j].score - r.score) < Math.abs(left[best].score - r.score)) best = j;
    }
    const o = best >= 0 ? left[best] : null;
    const scoreError = o ? Math.abs(o.score - r.score) / scale : Number.POSITIVE_INFINITY;
    if (!o || scoreError > tol || Math.abs(o.area - r.area) > Math.max(2, 0.005 * r.area)) {
      misses.push({ ref: r, ours: o });
    }
    if (o) {
      maxScoreError = Math.max(maxScoreError, scoreError);
      left.splice(best, 1);
    }
  }
  return { misses, extra: left.length, maxScoreError, equal: misses.length === 0 && left.length === 0 };
}
