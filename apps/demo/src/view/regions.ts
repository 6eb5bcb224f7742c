import { decodeRle, type Segmentation, type Task } from "@fcclip/core";

/** One thing the view can highlight: a panoptic segment, a semantic class, or an instance. */
export interface Region {
  label: string;
  categoryId: number;
  /** Class probability (panoptic, instance); null for semantic classes (the map keeps only the argmax). */
  score: number | null;
  area: number;
}

/** A region index per pixel (−1 = none) and the regions, for one of the three tasks. */
export interface RegionMap {
  regions: Region[];
  index: Int32Array;
}

/**
 * panoptic: segments by id; semantic: the classes present; instance: instances scoring at least `minScore`, the
 * highest-scoring one owning each pixel where they overlap.
 */
export function regionMap(seg: Segmentation, task: Task, names: readonly string[], minScore = 0.5): RegionMap {
  const n = seg.width * seg.height;
  const index = new Int32Array(n).fill(-1);
  if (task === "panoptic" && seg.panoptic) {
    const { ids, segments } = seg.panoptic;
    for (let i = 0; i < n; i++) index[i] = ids[i]! - 1;
    const regions = segments.map((s) => ({
      label: names[s.category_id]!,
      categoryId: s.category_id,
      score: s.score,
      area: s.area,
    }));
    return { regions, index };
  }
  if (task === "semantic" && seg.semantic) {
    const present = [...new Set(seg.semantic)].sort((a, b) => a - b);
    const slot = new Map(present.map((c, i) => [c, i]));
    const regions = present.map((c) => ({ label: names[c]!, categoryId: c, score: null, area: 0 }));
    for (let i = 0; i < n; i++) {
      const r = slot.get(seg.semantic[i]!)!;
      index[i] = r;
      regions[r]!.area++;
    }
    return { regions, index };
  }
  if (task === "instance" && seg.instances) {
    const kept = seg.instances.filter((x) => x.score >= minScore).sort((a, b) => b.score - a.score);
    const regions = kept.map((x) => ({
      label: names[x.category_id]!,
      categoryId: x.category_id,
      score: x.score,
      area: 0,
    }));
    kept.forEach((x, r) => {
      const mask = decodeRle(x.rle);
      for (let i = 0; i < n; i++) {
        if (mask[i] && index[i] === -1) {
          index[i] = r;
          regions[r]!.area++;
        }
      }
    });
    return { regions, index };
  }
  return { regions: [], index };
}
