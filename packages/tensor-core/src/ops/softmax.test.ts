import { describe, expect, test, vi } from "vitest";
import { ShapeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { attention, SOFTMAX_VARIANTS, softmax } from "./softmax.js";

// Both kernel flavors run on any adapter: one invocation per row (CPU adapters) and one workgroup per row (GPUs).
describe.each(["cpu", "gpu"] as const)("softmax and attention vs PyTorch (%s flavor)", async (flavor) => {
  const e = await testEngine({ flavor });
  for (const c of await loadFixtures("softmax")) {
    test(c.name, async () => {
      const y = e.scope(() => {
        if (c.params.kind === "attention") {
          return attention(upload(e, c.t("q")), upload(e, c.t("k")), upload(e, c.t("v")), {
            mask: upload(e, c.t("mask")),
          });
        }
        return softmax(upload(e, c.t("x")), { mask: c.inputs.includes("mask") ? upload(e, c.t("mask")) : undefined });
      });
      expectClose(await y.read(), c.t("y"), 2e-6, c.name);
      y.dispose();
    });
  }

  test(`runs the ${flavor} flavor's variant`, () => {
    const spies = SOFTMAX_VARIANTS.map((v) => [v.name, vi.spyOn(v, "encode")] as const);
    e.scope(() => softmax(e.zeros([3, 5])));
    const used = spies.filter(([, s]) => s.mock.calls.length > 0).map(([name]) => name);
    for (const [, s] of spies) s.mockRestore();
    expect(used).toEqual([flavor === "gpu" ? "workgroup-rows" : "invocation-rows"]);
  });

  test("a mask that does not broadcast is a ShapeError", () => {
    const x = e.zeros([2, 5]);
    const m = e.zeros([3]);
    expect(() => softmax(x, { mask: m })).toThrow(ShapeError);
    x.dispose();
    m.dispose();
  });
});
