import { describe, expect, test } from "vitest";
import { DTypeError, ShapeError } from "../errors.js";
import { loadFixtures, testEngine, upload } from "../testing/harness.js";
import { weightedSigmoidArgmax } from "./weighted-sigmoid-argmax.js";

describe("weightedSigmoidArgmax vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("weighted_sigmoid_argmax")) {
    test(`${c.name}: argmax of weight·sigmoid, first on ties, and the winner's sigmoid ≥ 0.5`, async () => {
      const { id, flag } = weightedSigmoidArgmax(
        upload(e, c.t("logits")),
        upload(e, c.t("rows"), "u32"),
        upload(e, c.t("weights")),
      );
      expect(Array.from(await id.read())).toEqual(Array.from(c.t("id").data));
      expect(Array.from(await flag.read())).toEqual(Array.from(c.t("flag").data));
      id.dispose();
      flag.dispose();
    });
  }

  test("wrong dtypes, ranks or lengths are refused with what was expected", () => {
    const logits = e.zeros([3, 8]);
    const rows = e.zeros([2], "u32");
    const w = e.zeros([2]);
    const call =
      (l = logits, r = rows, ww = w) =>
      () =>
        weightedSigmoidArgmax(l, r, ww);
    const i32Rows = e.zeros([2], "i32");
    expect(call(logits, i32Rows)).toThrow(DTypeError);
    expect(call(logits, i32Rows)).toThrow(/rows has dtype i32, expected u32/);
    expect(call(logits.reshape([24]))).toThrow(/logits must have rank 2/);
    const w3 = e.zeros([3]);
    expect(call(logits, rows, w3)).toThrow(ShapeError);
    expect(call(logits, rows, w3)).toThrow(/weights \[3\] must have one weight per row index, rows is \[2\]/);
    const empty = e.zeros([0], "u32");
    const emptyW = e.zeros([0]);
    expect(call(logits, empty, emptyW)).toThrow(/rows is empty/);
    for (const t of [logits, rows, w, i32Rows, w3, empty, emptyW]) t.dispose();
  });
});
