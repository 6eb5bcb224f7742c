import { describe, expect, test } from "vitest";
import { ShapeError } from "../errors.js";
import { expectClose, loadFixtures, NO_F16, testEngine, upload } from "../testing/harness.js";
import { type BinaryOp, binary } from "./binary.js";

describe("binary ops with broadcasting vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("binary")) {
    test(c.name, async ({ skip }) => {
      const p = c.params as { op: BinaryOp; dtype?: "f16" };
      skip(p.dtype === "f16" && !e.hasF16, NO_F16);
      const y = e.scope(() => binary(upload(e, c.t("a"), p.dtype), upload(e, c.t("b"), p.dtype), p.op));
      expect(y.shape).toEqual(c.t("y").shape);
      expectClose(await y.read(), c.t("y"), p.dtype === "f16" ? 1e-3 : 1e-6, c.name);
      y.dispose();
    });
  }

  test("shapes that do not broadcast throw ShapeError naming both shapes", () => {
    const a = e.zeros([3, 4]);
    const b = e.zeros([5]);
    expect(() => binary(a, b, "add")).toThrow(/\[3, 4\] and \[5\]/);
    expect(() => binary(a, b, "add")).toThrow(ShapeError);
    a.dispose();
    b.dispose();
  });
});
