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

  for (const c of await loadFixtures("conv2d_residual")) {
    test(`1×1 conv with the shortcut and ReLU fused: ${c.name}`, async () => {
      const [x, w, bias, residual] = ["x", "w", "bias", "residual"].map((k) => upload(e, c.t(k)));
      const y = conv2d(x!, w!, { bias, residual, residualActivation: "relu" });
      expectClose(await y.read(), c.t("y"), 1e-5, c.name);
      // Without the ReLU some outputs are negative: the fused ReLU is really applied.
      const raw = conv2d(x!, w!, { bias, residual });
      expect(Math.min(...((await raw.read()) as Float32Array))).toBeLessThan(0);
      for (const t of [x!, w!, bias!, residual!, y, raw]) t.dispose();
    });
  }

  test("a fused residual on a non-1×1 conv, or of the wrong shape, is a ShapeError", () => {
    const x = e.zeros([1, 4, 5, 5]);
    const w3 = e.zeros([8, 4, 3, 3]);
    const w1 = e.zeros([8, 4, 1, 1]);
    const r = e.zeros([1, 8, 5, 5]);
    expect(() => conv2d(x, w3, { padding: 1, residual: r })).toThrow(/only supported for 1×1/);
    expect(() => conv2d(x, w1, { residual: e.zeros([1, 8, 5, 4]) })).toThrow(/expected the output's shape/);
    for (const t of [x, w3, w1, r]) t.dispose();
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
