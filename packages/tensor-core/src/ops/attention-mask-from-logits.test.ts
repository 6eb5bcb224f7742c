import { describe, expect, test } from "vitest";
import { DTypeError, ShapeError } from "../errors.js";
import { loadFixtures, testEngine, upload } from "../testing/harness.js";
import { attentionMaskFromLogits } from "./attention-mask-from-logits.js";

describe("attentionMaskFromLogits vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("attention_mask_from_logits")) {
    test(`${c.name}: sigmoid < 0.5 excluded, all-excluded rows attend everywhere, tiny logits attended`, async () => {
      const y = e.scope(() => attentionMaskFromLogits(upload(e, c.t("x"))));
      expect(y.dtype).toBe("i32");
      expect(y.shape).toEqual(c.t("y").shape);
      expect(Array.from(await y.read())).toEqual(Array.from(c.t("y").data));
      y.dispose();
    });
  }

  test("logits that are not an f32 [Q, HW] matrix are refused", () => {
    const x3 = e.zeros([2, 3, 4]);
    const i = e.zeros([2, 3], "i32");
    expect(() => attentionMaskFromLogits(x3)).toThrow(ShapeError);
    expect(() => attentionMaskFromLogits(x3)).toThrow(/x must have rank 2, got \[2, 3, 4\]/);
    expect(() => attentionMaskFromLogits(i)).toThrow(DTypeError);
    expect(() => attentionMaskFromLogits(i)).toThrow(/x has dtype i32, expected f32/);
    x3.dispose();
    i.dispose();
  });
});
