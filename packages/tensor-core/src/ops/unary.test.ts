import { describe, expect, test } from "vitest";
import { DTypeError } from "../errors.js";
import { expectClose, loadFixtures, NO_F16, testEngine, upload } from "../testing/harness.js";
import { type UnaryOp, unary } from "./unary.js";

describe("unary ops vs PyTorch", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("unary")) {
    test(c.name, async ({ skip }) => {
      const p = c.params as { op: UnaryOp; dtype?: "f16"; scale?: number; shift?: number };
      skip(p.dtype === "f16" && !e.hasF16, NO_F16);
      const x = upload(e, c.t("x"), p.dtype);
      const y = unary(x, p.op, p);
      expect(y.dtype).toBe(p.dtype ?? "f32");
      // GELU's erf approximation is within 1.4e-7 abs; f16 results may differ by one f16 ulp (2^-10 relative).
      expectClose(await y.read(), c.t("y"), p.dtype === "f16" ? 1e-3 : 2e-6, c.name);
      x.dispose();
      y.dispose();
    });
  }

  test("exp and sigmoid stay within a few float32 ulps of float64 over their whole range", async () => {
    // WGSL's builtin exp may be off by 3 + 2|x| ulps (63 at x = -80 on lavapipe); PyTorch's CPU kernels are within 2.
    const n = 20001;
    const xs = Float32Array.from({ length: n }, (_, i) => -103 + (192 * i) / (n - 1));
    const x = e.tensor(xs, [n]);
    const ulps = (a: number, b: number) => {
      const f = new Float32Array([a, b]);
      const i = new Int32Array(f.buffer);
      return a === b ? 0 : Math.abs(i[0]! - i[1]!);
    };
    for (const [op, f] of [
      ["exp", Math.exp],
      ["sigmoid", (v: number) => 1 / (1 + Math.exp(-v))],
    ] as const) {
      const y = await unary(x, op).read();
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const want = Math.fround(f(xs[i]!));
        if (want !== 0 && Math.abs(want) < 1.2e-38) continue; // subnormal results: adapters may flush them
        worst = Math.max(worst, ulps(y[i]!, want));
      }
      expect(worst, op).toBeLessThanOrEqual(4);
    }
    const edges = e.tensor(new Float32Array([89, 200, -104, -300]), [4]);
    const ye = unary(edges, "exp");
    expect(Array.from(await ye.read())).toEqual([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0, 0]);
    for (const t of [edges, ye]) t.dispose();
    x.dispose();
  });

  test("rejects integer tensors with a typed error", async () => {
    const ids = e.tensor(new Int32Array([1, 2]), [2]);
    expect(() => unary(ids, "relu")).toThrow(DTypeError);
    ids.dispose();
  });
});
