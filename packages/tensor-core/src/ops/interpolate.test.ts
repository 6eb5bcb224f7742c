import { describe, expect, test } from "vitest";
import { ShapeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { interpolate } from "./interpolate.js";

describe("interpolate vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("interpolate")) {
    test(c.name, async () => {
      const p = c.params as { size: [number, number]; mode: "bilinear" | "nearest"; alignCorners: boolean | null };
      const y = e.scope(() =>
        interpolate(upload(e, c.t("x")), { size: p.size, mode: p.mode, alignCorners: p.alignCorners ?? undefined }),
      );
      expect(y.shape).toEqual(c.t("y").shape);
      expectClose(await y.read(), c.t("y"), 1e-6, c.name);
      y.dispose();
    });
  }

  test("invalid sizes are ShapeErrors", () => {
    const x = e.zeros([1, 1, 4, 4]);
    expect(() => interpolate(x, { size: [0, 3] })).toThrow(ShapeError);
    x.dispose();
  });
});
