import { rleColumnMajor, type Segmentation } from "@fcclip/core";
import { expect, test } from "vitest";
import { regionMap } from "./regions.js";

// A 2×3 image. Panoptic: segment 1 (class 0) on the left column, 2 (class 2) elsewhere but one void pixel.
const names = ["cat", "sofa", "sky"];
const mask = (rows: number[]) => ({
  size: [2, 3] as [number, number],
  counts: rleColumnMajor((y, x) => rows[y * 3 + x] === 1, 2, 3),
});
const seg: Segmentation = {
  height: 2,
  width: 3,
  panoptic: {
    ids: Int32Array.from([1, 2, 2, 1, 2, 0]),
    segments: [
      { id: 1, category_id: 0, isthing: true, area: 2, score: 0.9 },
      { id: 2, category_id: 2, isthing: false, area: 3, score: 0.7 },
    ],
  },
  semantic: Int32Array.from([0, 2, 2, 0, 1, 1]),
  instances: [
    { score: 0.6, category_id: 0, area: 4, rle: mask([1, 1, 0, 1, 1, 0]) },
    { score: 0.8, category_id: 1, area: 2, rle: mask([0, 1, 1, 0, 0, 0]) },
    { score: 0.3, category_id: 0, area: 6, rle: mask([1, 1, 1, 1, 1, 1]) },
  ],
};

test("panoptic regions are the segments; void pixels belong to none", () => {
  const m = regionMap(seg, "panoptic", names);
  expect(Array.from(m.index)).toEqual([0, 1, 1, 0, 1, -1]);
  expect(m.regions).toEqual([
    { label: "cat", categoryId: 0, score: 0.9, area: 2 },
    { label: "sky", categoryId: 2, score: 0.7, area: 3 },
  ]);
});

test("semantic regions are the classes present, with their areas and no score", () => {
  const m = regionMap(seg, "semantic", names);
  expect(m.regions.map((r) => [r.label, r.area, r.score])).toEqual([
    ["cat", 2, null],
    ["sofa", 2, null],
    ["sky", 2, null],
  ]);
  expect(Array.from(m.index)).toEqual([0, 2, 2, 0, 1, 1]);
});

test("instance regions: those scoring at least the threshold, the best one owning overlaps", () => {
  const m = regionMap(seg, "instance", names);
  // Sorted by score: sofa 0.8 (region 0), cat 0.6 (region 1); the 0.3 cat is below 0.5.
  expect(m.regions.map((r) => [r.label, r.score, r.area])).toEqual([
    ["sofa", 0.8, 2],
    ["cat", 0.6, 3],
  ]);
  expect(Array.from(m.index)).toEqual([1, 0, 0, 1, 1, -1]);
  expect(regionMap(seg, "instance", names, 0.2).regions).toHaveLength(3);
});
