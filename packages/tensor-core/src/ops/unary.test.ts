import { describe, expect, test } from "vitest";
import { DTypeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { type UnaryOp, unary } from "./unary.js";

describe("unary ops vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("unary")) {
    test(c.name, async () => {
      const p = c.params as { op: UnaryOp; dtype?: "f16"; scale?: number; shift?: number };
      if (p.dtype === "f16" && !e.hasF16) return;
      const x = upload(e, c.t("x"), p.dtype);
      const y = unary(x, p.op, p);
      expect(y.dtype).toBe(p.dtype ?? "f32");
      // GELU's erf approximation is within 1.4e-7 abs; f16 results may differ by one f16 ulp (2^-10 relative).
      expectClose(await y.read(), c.t("y"), p.dtype === "f16" ? 1e-3 : 2e-6, c.name);
      x.dispose();
      y.dispose();
    });
  }

  test("rejects integer tensors with a typed error", async () => {
    const ids = e.tensor(new Int32Array([1, 2]), [2]);
    expect(() => unary(ids, "relu")).toThrow(DTypeError);
    ids.dispose();
  });
});
