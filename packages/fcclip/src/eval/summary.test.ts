import { describe, expect, test } from "vitest";
import type { ImageRecord } from "./image-evaluation.js";
import { summarize } from "./summary.js";

describe("dataset summary", () => {
  const categories = [
    { id: 1, name: "bag", isthing: true, seen: true },
    { id: 2, name: "bag", isthing: true, seen: false },
    { id: 3, name: "sky", isthing: false, seen: false },
  ];
  const record = (id: number, panoptic: ImageRecord["panoptic"], semantic: ImageRecord["semantic"]): ImageRecord => ({
    image_id: id,
    file: `${id}.png`,
    height: 1,
    width: 4,
    panoptic,
    semantic,
  });

  test("percent like detectron2, seen/unseen PQ, null where nothing is averaged, repeated names keep their id", () => {
    const m = summarize(
      [
        // Image 2 first: records may come in any order.
        record(2, [[3, 0.5, 1, 1, 0]], [[2, 2, 2]]),
        record(
          1,
          [[1, 0.8, 1, 0, 0]],
          [
            [0, 0, 1],
            [1, 0, 1],
          ],
        ),
      ],
      categories,
    );
    // bag(1): PQ 0.8; sky: 0.5 / (1 + ½) = 1/3; bag(2) has no TP/FP/FN and is left out.
    expect(m.panoptic!.PQ).toBeCloseTo(((0.8 + 1 / 3) / 2) * 100, 12);
    expect(m.panoptic!.PQ_seen).toBeCloseTo(80, 12);
    expect(m.panoptic!.PQ_unseen).toBeCloseTo(100 / 3, 12);
    expect(m.panoptic!.PQ_th).toBeCloseTo(80, 12);
    expect(m.panoptic!.categories_averaged).toEqual({ all: 2, th: 1, st: 1, seen: 1, unseen: 1 });
    expect(Object.keys(m.panoptic!.per_class as object)).toEqual(["bag (1)", "bag (2)", "sky"]);
    // Semantic: class 0 has 2 pixels, 1 right; class 2 has 2, both right; class 1 has no ground truth → null.
    expect(m.semantic!.IoU).toEqual({ "bag (1)": 50, "bag (2)": null, sky: 100 });
    expect(m.semantic!.mIoU).toBe(75);
    expect(m.instance).toBeUndefined();
  });
});
