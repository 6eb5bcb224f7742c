import { describe, expect, test } from "vitest";
import { ShapeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { conv2d } from "./conv2d.js";

describe("conv2d vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("conv2d")) {
    test(c.name, async () => {
      const p = c.params as { stride: number; padding: number; dilation: number; groups: number };
      const y = e.scope(() =>
        conv2d(upload(e, c.t("x")), upload(e, c.t("w")), {
          ...p,
          bias: c.inputs.includes("bias") ? upload(e, c.t("bias")) : undefined,
        }),
      );
      expect(y.shape).toEqual(c.t("y").shape);
      expectClose(await y.read(), c.t("y"), 1e-5, c.name);
      y.dispose();
    });
  }

  test("im2col slices: a pixel range cut into several matmuls equals PyTorch", async () => {
    // 36 rows of im2col × 4 bytes: a 4 KB binding limit leaves 28 of the 35 output pixels per slice.
    const small = await testEngine({ maxBindingBytes: 4096 });
    const c = (await loadFixtures("conv2d")).find((k) => k.name === "3x3_stride2")!;
    const y = small.scope(() => conv2d(upload(small, c.t("x")), upload(small, c.t("w")), { stride: 2, padding: 1 }));
    expectClose(await y.read(), c.t("y"), 1e-5, "sliced");
    y.dispose();
  });

  test("channel mismatch and bad groups are ShapeErrors", () => {
    const x = e.zeros([1, 4, 5, 5]);
    const w = e.zeros([8, 3, 3, 3]);
    expect(() => conv2d(x, w)).toThrow(ShapeError);
    expect(() => conv2d(x, w, { groups: 3 })).toThrow(/groups=3/);
    x.dispose();
    w.dispose();
  });
});
