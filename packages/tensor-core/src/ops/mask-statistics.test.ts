import { describe, expect, test } from "vitest";
import { DTypeError, ShapeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { maskStatistics } from "./mask-statistics.js";

describe("maskStatistics vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("mask_statistics")) {
    test(`${c.name}: #(sigmoid ≥ 0.5), Σ sigmoid·1[x > 0], #(x > 0)`, async () => {
      const { valid } = c.params as { valid: number };
      const y = e.scope(() => maskStatistics(upload(e, c.t("x")), valid));
      expect(y.shape).toEqual(c.t("y").shape);
      const got = await y.read();
      expectClose(got, c.t("y"), 1e-6, c.name);
      // The counts are exact.
      for (let i = 0; i < got.length; i += 3) {
        expect([got[i], got[i + 2]]).toEqual([c.t("y").data[i], c.t("y").data[i + 2]]);
      }
      y.dispose();
    });
  }

  test("valid outside [0, P] or a non-f32 matrix is refused", () => {
    const x = e.zeros([2, 64]);
    expect(() => maskStatistics(x, 65)).toThrow(ShapeError);
    expect(() => maskStatistics(x, 65)).toThrow(/valid must be an integer in \[0, 64\].*got 65/);
    expect(() => maskStatistics(x, -1)).toThrow(ShapeError);
    expect(() => maskStatistics(x, 1.5)).toThrow(ShapeError);
    expect(() => maskStatistics(x.reshape([128]), 1)).toThrow(/rank 2/);
    const i = e.zeros([2, 64], "i32");
    expect(() => maskStatistics(i, 1)).toThrow(DTypeError);
    x.dispose();
    i.dispose();
  });
});
