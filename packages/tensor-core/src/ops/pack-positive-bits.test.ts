import { describe, expect, test } from "vitest";
import { DTypeError, ShapeError } from "../errors.js";
import { loadFixtures, testEngine, upload } from "../testing/harness.js";
import { packPositiveBits } from "./pack-positive-bits.js";

describe("packPositiveBits vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("pack_positive_bits")) {
    test(`${c.name}: 1[x > 0] of the selected rows, 32 columns per word`, async () => {
      const y = e.scope(() => packPositiveBits(upload(e, c.t("x")), upload(e, c.t("rows"), "u32")));
      expect(y.dtype).toBe("u32");
      expect(y.shape).toEqual(c.t("y").shape);
      // The fixture stores the words as int32: the same 32 bits.
      expect(Array.from(await y.read())).toEqual(Array.from(new Uint32Array(c.t("y").data.buffer)));
      y.dispose();
    });
  }

  test("columns not a multiple of 32, or rows that are not u32 indices, are refused", () => {
    const x = e.zeros([2, 40]);
    const rows = e.zeros([1], "u32");
    expect(() => packPositiveBits(x, rows)).toThrow(ShapeError);
    expect(() => packPositiveBits(x, rows)).toThrow(/must have a multiple of 32 columns.*got 40/);
    const x64 = e.zeros([2, 64]);
    const f32Rows = e.zeros([1]);
    expect(() => packPositiveBits(x64, f32Rows)).toThrow(DTypeError);
    expect(() => packPositiveBits(x64, f32Rows)).toThrow(/rows has dtype f32, expected u32/);
    expect(() => packPositiveBits(x64, rows.reshape([1, 1]))).toThrow(/rows must have rank 1/);
    for (const t of [x, rows, x64, f32Rows]) t.dispose();
  });
});
