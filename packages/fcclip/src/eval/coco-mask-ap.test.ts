import { describe, expect, test } from "vitest";
import { rleColumnMajor } from "../postprocess/rle.js";
import { type CocoDetection, type CocoGroundTruth, evaluateImage, IOU_THRESHOLDS, maskAp } from "./coco-mask-ap.js";

/** A 1×20 mask set on [from, to). */
const span = (from: number, to: number) => rleColumnMajor((_, x) => x >= from && x < to, 1, 20);

describe("COCO mask AP, hand-made cases", () => {
  const gt: CocoGroundTruth = { category_id: 1, iscrowd: false, area: 8, counts: span(0, 8) };
  // d1 (0.9) has IoU 5/8 = 0.625 with the object, d2 (0.8) IoU 1.
  const d1: CocoDetection = { category_id: 1, score: 0.9, counts: span(0, 5) };
  const d2: CocoDetection = { category_id: 1, score: 0.8, counts: span(0, 8) };

  test("greedy matching by score: the better mask after a weaker match is a false positive", () => {
    // At IoU .50/.55/.60, d1 takes the object and d2 is a false positive: precision 1 at every recall.
    // From .65 on d1 is a false positive and d2 matches: precision (0, 1/2) → 1/2 at every recall.
    // AP = (3·1 + 7·½) / 10.
    const r = maskAp([evaluateImage([gt], [d1, d2])], [1, 2]);
    expect(r.AP).toBeCloseTo(0.65, 12);
    // pycocotools divides by tp + fp + eps, so "1" is 1 − 2.2e-16.
    expect(r.AP50).toBeCloseTo(1, 15);
    expect(r.AP75).toBe(0.5);
    expect(r.APs).toBeCloseTo(0.65, 12);
    expect(r.APm).toBeNaN();
    expect(r.perClass.get(2)).toBeNaN();
    expect(IOU_THRESHOLDS[5]).toBe(0.75);
  });

  test("a detection on a crowd region is ignored, not a false positive; without the crowd flag it is one", () => {
    const crowd: CocoGroundTruth = { category_id: 1, iscrowd: true, area: 10, counts: span(10, 20) };
    const d3: CocoDetection = { category_id: 1, score: 0.95, counts: span(10, 13) };
    expect(maskAp([evaluateImage([gt, crowd], [d1, d2, d3])], [1]).AP).toBeCloseTo(0.65, 12);
    const notCrowd = { ...crowd, iscrowd: false };
    // Now d3 (IoU 0.3) is a false positive above both: two objects, recall at most 1/2.
    expect(maskAp([evaluateImage([gt, notCrowd], [d1, d2, d3])], [1]).AP).toBeLessThan(0.65);
  });

  test("no detections: AP 0; no ground truth anywhere: NaN", () => {
    expect(maskAp([evaluateImage([gt], [])], [1]).AP).toBe(0);
    expect(maskAp([evaluateImage([], [d1])], [1]).AP).toBeNaN();
  });

  test("only the 100 best detections of an image and category count", () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ ...d2, score: i === 149 ? 0.01 : 0.5 + i / 1000 }));
    // The only matching detection is last by score once the 149 others (on pixels 10..19) are ahead of it.
    const misses = many.map((d, i) => (i === 149 ? d : { ...d, counts: span(10, 20) }));
    expect(evaluateImage([gt], misses)[0]!.scores).toHaveLength(100);
    expect(maskAp([evaluateImage([gt], misses)], [1]).AP).toBe(0);
  });
});
