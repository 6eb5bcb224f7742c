import { describe, expect, test } from "vitest";
import { SemSegConfusion, semSegMetrics } from "./semantic-metrics.js";

describe("semantic metrics, hand-made cases", () => {
  test("detectron2's mIoU, fwIoU, mACC and pACC; ignored pixels count nowhere", () => {
    const conf = new SemSegConfusion(2);
    conf.add([0, 1, 1, 0], [0, 0, 1, 255]);
    // tp = [1, 1], ground truth [2, 1], predicted [1, 2]: IoU 1/2 each; accuracy 1/2 and 1.
    const m = semSegMetrics(conf);
    expect(m.IoU).toEqual([0.5, 0.5]);
    expect(m.ACC).toEqual([0.5, 1]);
    expect(m.mIoU).toBe(0.5);
    expect(m.mACC).toBe(0.75);
    expect(m.pACC).toBe(2 / 3);
    expect(m.fwIoU).toBeCloseTo(0.5, 15);
  });

  test("a class predicted but absent from the ground truth is NaN and left out of the means", () => {
    const conf = new SemSegConfusion(3, 65535);
    conf.add([0, 2, 2, 1], [0, 0, 1, 65535]);
    const m = semSegMetrics(conf);
    // Class 0: tp 1, gt 2, pred 1 → 1/2. Class 1: tp 0 → 0. Class 2 has no ground truth.
    expect(m.IoU[2]).toBeNaN();
    expect(m.mIoU).toBe(0.25);
    expect(m.pACC).toBe(1 / 3);
  });

  test("labels outside the classes are refused with the image named", () => {
    const conf = new SemSegConfusion(2);
    expect(() => conf.add([0], [7], "a.png")).toThrow(/image a.png: ground-truth label 7 is neither a class/);
    expect(() => conf.add([2], [0], "a.png")).toThrow(/predicted class 2 is outside 0..1/);
    expect(() => conf.add([0, 0], [0], "a.png")).toThrow(/2 pixels, the ground truth 1/);
  });
});
