import { describe, expect, test } from "vitest";
import { ShapeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { avgPool2d } from "./avg-pool2d.js";

describe("avgPool2d vs PyTorch", async () => {
  for (const c of await loadFixtures("avg_pool2d")) {
    test(c.name, async () => {
      const { kernel, maxBindingBytes } = c.params as { kernel: number; maxBindingBytes: number };
      const e = await testEngine(maxBindingBytes ? { maxBindingBytes } : {});
      const x = upload(e, c.t("x"));
      // The windowed case must really be split.
      if (maxBindingBytes) expect(x.size * 4).toBeGreaterThan(maxBindingBytes);
      const y = avgPool2d(x, kernel);
      expect(y.shape).toEqual(c.t("y").shape);
      expectClose(await y.read(), c.t("y"), 1e-6, c.name);
      x.dispose();
      y.dispose();
    });
  }

  test("a window larger than the map, or a bad kernel, is a ShapeError", async () => {
    const e = await testEngine();
    const x = e.zeros([1, 1, 3, 3]);
    expect(() => avgPool2d(x, 4)).toThrow(ShapeError);
    expect(() => avgPool2d(x, 0)).toThrow(ShapeError);
    expect(() => avgPool2d(x.reshape([1, 9]), 2)).toThrow(ShapeError);
    x.dispose();
  });
});
