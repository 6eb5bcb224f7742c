import { describe, expect, test } from "vitest";
import { PanopticFormatError, type PqStat, pqAverage, pqComputeSingle } from "./panoptic-quality.js";

const cats = [
  { id: 1, name: "cat", isthing: true },
  { id: 2, name: "crowd-able", isthing: true },
  { id: 3, name: "sky", isthing: false },
  { id: 4, name: "never", isthing: false },
];
const ids = new Set(cats.map((c) => c.id));

describe("panoptic quality, hand-made cases", () => {
  // One row of 12 pixels. Ground truth: A = cat (0..3), B = crowd of class 2 (4..6), VOID (7..9), C = sky (10..11).
  const gt = {
    ids: [1, 1, 1, 1, 2, 2, 2, 0, 0, 0, 3, 3],
    segments: [
      { id: 1, category_id: 1, iscrowd: 0, area: 4 },
      { id: 2, category_id: 2, iscrowd: 1, area: 3 },
      { id: 3, category_id: 3, iscrowd: 0, area: 2 },
    ],
  };

  test("VOID leaves the union, crowd and VOID predictions are not false positives, misses are false negatives", () => {
    // P1 = cat on 0..2 and VOID pixel 7: IoU = 3 / (4 + 4 − 3 − 1) = 0.75, a match.
    // P2 = class 2 on 4, 5 and VOID 8: unmatched (crowd) but 3/3 of it is crowd or VOID, so ignored.
    // P3 = cat on VOID 9 only: ignored. Sky (C) is not predicted: one false negative.
    const pred = {
      ids: [5, 5, 5, 0, 6, 6, 0, 5, 6, 7, 0, 0],
      segments: [
        { id: 5, category_id: 1 },
        { id: 6, category_id: 2 },
        { id: 7, category_id: 1 },
      ],
    };
    const s = pqComputeSingle(gt, pred, ids);
    expect(s.get(1)).toEqual({ iou: 0.75, tp: 1, fp: 0, fn: 0 });
    expect(s.get(2)).toBeUndefined();
    expect(s.get(3)).toEqual({ iou: 0, tp: 0, fp: 0, fn: 1 });
    const all = pqAverage(s, cats);
    // (0.75 + 0) / 2 categories with TP + FP + FN > 0; class 2 and 4 are left out of the mean.
    expect(all).toMatchObject({ pq: 0.375, sq: 0.375, rq: 0.5, n: 2 });
    expect(all.perClass.get(4)).toEqual({ pq: 0, sq: 0, rq: 0 });
    expect(pqAverage(s, cats, (c) => c.isthing)).toMatchObject({ pq: 0.75, sq: 0.75, rq: 1, n: 1 });
    expect(pqAverage(s, cats, (c) => !c.isthing)).toMatchObject({ pq: 0, sq: 0, rq: 0, n: 1 });
  });

  test("IoU exactly 0.5 is not a match; a wrong class is a false positive and a false negative", () => {
    // P8 = sky on the cat's pixels: a false positive (and the cat a false negative). P9 = sky on VOID 7 and pixel 10:
    // IoU 1 / (2 + 2 − 1 − 1) = 0.5, no match; half of it on VOID is not more than half, so a false positive too.
    const pred = {
      ids: [8, 8, 8, 8, 0, 0, 0, 9, 0, 0, 9, 0],
      segments: [
        { id: 8, category_id: 3 },
        { id: 9, category_id: 3 },
      ],
    };
    const s: PqStat = pqComputeSingle(gt, pred, ids);
    expect(s.get(1)).toEqual({ iou: 0, tp: 0, fp: 0, fn: 1 });
    expect(s.get(3)).toEqual({ iou: 0, tp: 0, fp: 2, fn: 1 });
    expect(pqAverage(s, cats).pq).toBe(0);
    expect(pqAverage(new Map(), cats, (c) => c.id === 4).n).toBe(0);
    expect(pqAverage(new Map(), cats, (c) => c.id === 4).pq).toBeNaN();
  });

  test("a perfect prediction with ids above 255 gives PQ 1", () => {
    const pred = {
      ids: gt.ids.map((i) => (i ? i + 70000 : 0)),
      segments: gt.segments.map((s) => ({ id: s.id + 70000, category_id: s.category_id })),
    };
    const s = pqComputeSingle(gt, pred, ids);
    expect(pqAverage(s, cats)).toMatchObject({ pq: 1, sq: 1, rq: 1, n: 2 });
  });

  test("ids and segments_info must agree, and categories must be known (panopticapi's KeyErrors)", () => {
    const segs = [{ id: 5, category_id: 1 }];
    const row = (v: number) => new Array(12).fill(v);
    expect(() => pqComputeSingle(gt, { ids: row(6), segments: segs }, ids, "img")).toThrow(
      /image img: segment 6 is in the PNG and not in segments_info/,
    );
    expect(() => pqComputeSingle(gt, { ids: row(0), segments: segs }, ids)).toThrow(
      /5 are in segments_info, not in the PNG/,
    );
    expect(() => pqComputeSingle(gt, { ids: row(5), segments: [{ id: 5, category_id: 99 }] }, ids)).toThrow(
      PanopticFormatError,
    );
    expect(() => pqComputeSingle(gt, { ids: [5], segments: segs }, ids)).toThrow(/1 pixels, the ground truth 12/);
  });
});
