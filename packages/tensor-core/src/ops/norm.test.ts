import { describe, expect, test, vi } from "vitest";
import { ShapeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { groupNorm, LAYER_NORM_VARIANTS, layerNorm } from "./norm.js";

// Both kernel flavors run on any adapter: one invocation per row (CPU adapters) and one workgroup per row (GPUs).
describe.each(["cpu", "gpu"] as const)("LayerNorm / GroupNorm vs PyTorch (%s flavor)", async (flavor) => {
  const e = await testEngine({ flavor });
  for (const c of await loadFixtures("norm")) {
    test(c.name, async () => {
      const p = c.params as { kind: "layer" | "group"; axis?: number; groups?: number; eps: number };
      const y = e.scope(() => {
        const [x, w, b] = [upload(e, c.t("x")), upload(e, c.t("w")), upload(e, c.t("b"))];
        return p.kind === "layer"
          ? layerNorm(x, w, b, { axis: p.axis, eps: p.eps })
          : groupNorm(x, p.groups!, w, b, p.eps);
      });
      // x = 1000 ± 0.1 is ill-conditioned in f32 (one ulp of the mean is 6e-4 of the result); a one-pass
      // E[x²]−E[x]² variance would be off by ~100 % there, so 1e-3 still separates right from wrong.
      expectClose(await y.read(), c.t("y"), c.name === "ln_large_mean" ? 1e-3 : 2e-5, c.name);
      y.dispose();
    });
  }

  test(`runs the ${flavor} flavor's variant for last-axis rows; channels-first maps keep one invocation per row`, () => {
    const spies = LAYER_NORM_VARIANTS.map((v) => [v.name, vi.spyOn(v, "encode")] as const);
    const used = (axis: number) => {
      e.scope(() => layerNorm(e.zeros([2, 3, 4]), null, null, { axis }));
      const names = spies.filter(([, s]) => s.mock.calls.length > 0).map(([name]) => name);
      for (const [, s] of spies) s.mockClear();
      return names;
    };
    const lastAxis = used(-1);
    const channelsFirst = used(1);
    for (const [, s] of spies) s.mockRestore();
    expect(lastAxis).toEqual([flavor === "gpu" ? "workgroup-rows" : "invocation-rows"]);
    expect(channelsFirst).toEqual(["invocation-rows"]);
  });

  test("wrong affine length and indivisible groups are ShapeErrors", () => {
    const x = e.zeros([2, 6, 3]);
    const w = e.zeros([5]);
    expect(() => layerNorm(x, w, null)).toThrow(ShapeError);
    expect(() => groupNorm(x, 4, null, null)).toThrow(/4 groups do not divide 6/);
    x.dispose();
    w.dispose();
  });
});
