import { describe, expect, test } from "vitest";
import { ShapeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { maskPooling } from "./mask-pooling.js";
import { msDeformAttnSample } from "./ms-deform-attn.js";
import { type ReduceOp, reduce, topk } from "./reduce.js";

describe("deformable sampling, mask pooling, reductions vs PyTorch", async () => {
  const e = await testEngine();

  for (const c of await loadFixtures("ms_deform_attn")) {
    test(`msDeformAttn ${c.name}`, async () => {
      const shapes = c.params.shapes as [number, number][];
      const y = e.scope(() =>
        msDeformAttnSample(upload(e, c.t("value")), shapes, upload(e, c.t("loc")), upload(e, c.t("aw"))),
      );
      expect(y.shape).toEqual(c.t("y").shape);
      expectClose(await y.read(), c.t("y"), 2e-6, c.name);
      y.dispose();
    });
  }

  for (const c of await loadFixtures("mask_pooling")) {
    test(`maskPooling ${c.name}`, async () => {
      const y = e.scope(() => maskPooling(upload(e, c.t("x")), upload(e, c.t("masks"))));
      expectClose(await y.read(), c.t("y"), 2e-6, c.name);
      y.dispose();
    });
  }

  for (const c of await loadFixtures("reduce")) {
    test(`reduce ${c.name}`, async () => {
      const p = c.params as { op: ReduceOp | "topk"; axes?: number[]; k?: number };
      const x = upload(e, c.t("x"));
      if (p.op === "topk") {
        const { values, indices } = topk(x, p.k!);
        expectClose(await values.read(), c.t("values"), 0, "values");
        expect(Array.from(await indices.read())).toEqual(Array.from(c.t("indices").data));
        values.dispose();
        indices.dispose();
      } else {
        const y = reduce(x, p.op, p.axes!);
        expect(y.shape).toEqual(c.t("y").shape);
        if (p.op === "argmax") expect(Array.from(await y.read())).toEqual(Array.from(c.t("y").data));
        else expectClose(await y.read(), c.t("y"), 1e-6, c.name);
        y.dispose();
      }
      x.dispose();
    });
  }

  test("mismatched sampling shapes are ShapeErrors", () => {
    const v = e.zeros([1, 10, 2, 4]);
    const loc = e.zeros([1, 3, 2, 1, 4, 2]);
    const aw = e.zeros([1, 3, 2, 1, 4]);
    expect(() => msDeformAttnSample(v, [[3, 3]], loc, aw)).toThrow(/cover 9 positions, value has 10/);
    expect(() => reduce(v, "sum", [0, 2])).toThrow(ShapeError);
    for (const t of [v, loc, aw]) t.dispose();
  });
});
