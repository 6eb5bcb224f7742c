import { describe, expect, test, vi } from "vitest";
import { BufferSizeError, ShapeError } from "../../errors.js";
import { expectClose, loadFixtures, NO_F16, testEngine, upload } from "../../testing/harness.js";
import type { Activation } from "../../wgsl/erf.js";
import { MatrixTexture } from "../matrix-texture.js";
import { matmul } from "./index.js";
import { MATMUL_VARIANTS } from "./variants.js";

interface P {
  transA: boolean;
  transB: boolean;
  biasAxis: "n" | "m";
  activation: Activation;
  alpha: number;
}

/**
 * The kernel families: CPU storage-buffer registers, CPU texture-fed (operands packed per call; also with K cut into
 * slices of 8, as products deeper than 1024 are), GPU tiles.
 */
const VARIANTS = [
  ["cpu", "cpu", false, undefined],
  ["cpu+texture", "cpu", true, undefined],
  ["cpu+texture k-slices", "cpu", true, 8],
  ["gpu", "gpu", false, undefined],
] as const;

describe("matmul vs PyTorch", async () => {
  const e = await testEngine();
  const cases = await loadFixtures("matmul");
  for (const [variant, flavor, stageTextures, kBlock] of VARIANTS) {
    for (const c of cases) {
      test(`${variant} ${c.name}`, async () => {
        const p = c.params as unknown as P;
        const y = e.scope(() =>
          matmul(upload(e, c.t("a")), upload(e, c.t("b")), {
            ...p,
            bias: c.inputs.includes("bias") ? upload(e, c.t("bias")) : undefined,
            flavor,
            stageTextures,
            kBlock,
          }),
        );
        expect(y.shape).toEqual(c.t("y").shape);
        expectClose(await y.read(), c.t("y"), 1e-5, c.name);
        y.dispose();
      });
    }
  }

  test("f16 weights are widened to f32 and accumulated in f32", async ({ skip }) => {
    skip(!e.hasF16, NO_F16);
    const c = cases.find((k) => k.name === "linear_gelu")!;
    const w = c.t("b");
    const wHalf = Float32Array.from(w.data, (v) => Math.fround(v));
    const y = e.scope(() =>
      matmul(upload(e, c.t("a")), e.tensor(wHalf, w.shape, "f16"), {
        transB: true,
        bias: upload(e, c.t("bias")),
        activation: "gelu",
      }),
    );
    // Rounding the weights to f16 costs ~2^-11 relative per product.
    expectClose(await y.read(), c.t("y"), 3e-3, "f16 weights");
    y.dispose();
  });

  test("operands over the binding limit are split along M and N with identical results", async () => {
    const small = await testEngine({ maxBindingBytes: 4096 });
    const c = cases.find((k) => k.name === "larger")!;
    for (const transB of [false, true]) {
      const bData = c.t("b");
      const [K, N] = bData.shape as [number, number];
      const bT = new Float32Array(K * N);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bT[n * K + k] = bData.data[k * N + n]!;
      if (!transB) {
        // b is [65, 200] f32 = 52 KB over a 4 KB limit and not transposed: must be refused with advice.
        const a = upload(small, c.t("a"));
        const b = upload(small, bData);
        expect(() => matmul(a, b)).toThrow(BufferSizeError);
        expect(() => matmul(a, b)).toThrow(/transB/);
        a.dispose();
        b.dispose();
        continue;
      }
      const y = small.scope(() =>
        matmul(upload(small, c.t("a")), small.tensor(bT, [N, K]), { transB: true, bias: upload(small, c.t("bias")) }),
      );
      expectClose(await y.read(), c.t("y"), 1e-5, "chunked");
      y.dispose();
    }
  });

  test("mismatched inner dimensions throw ShapeError with both shapes", () => {
    const a = e.zeros([3, 4]);
    const b = e.zeros([5, 6]);
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow(/K=4.*K=5/);
    a.dispose();
    b.dispose();
  });
});

describe("matmul's kernel variants", () => {
  test("the flavor option picks the kernel family on any adapter, overriding the engine's", async () => {
    const e = await testEngine();
    const spies = MATMUL_VARIANTS.map((v) => [v.name, vi.spyOn(v, "encode")] as const);
    const used = (opts: Parameters<typeof matmul>[2]) => {
      e.scope(() => matmul(e.zeros([16, 8]), e.zeros([8, 12]), opts));
      const names = spies.filter(([, s]) => s.mock.calls.length > 0).map(([name]) => name);
      for (const [, s] of spies) s.mockClear();
      return names;
    };
    const runs = [
      used({ flavor: "gpu" }),
      used({ flavor: "cpu" }),
      used({ flavor: "cpu", stageTextures: false }),
      used({ flavor: "gpu", stageTextures: true }),
    ];
    for (const [, s] of spies) s.mockRestore();
    expect(runs).toEqual([["gpu-tiled"], ["texture-fed"], ["cpu-register"], ["gpu-tiled"]]);
  });
});

describe("matmul binding windows vs PyTorch (vec4 loads, as ConvNeXt-L's MLP at full size)", async () => {
  const cases = await loadFixtures("matmul_windows");
  for (const [variant, flavor, stageTextures] of VARIANTS) {
    for (const c of cases) {
      test(`${variant} ${c.name}`, async () => {
        const { maxBindingBytes, ...p } = c.params as unknown as P & { maxBindingBytes: number };
        const small = await testEngine({ maxBindingBytes });
        const a = upload(small, c.t("a"));
        const b = upload(small, c.t("b"));
        // The case must really take a window path: an operand or the result over the limit.
        expect(Math.max(a.byteLength, b.byteLength, c.t("y").data.length * 4)).toBeGreaterThan(maxBindingBytes);
        const y = small.scope(() => matmul(a, b, { ...p, bias: upload(small, c.t("bias")), flavor, stageTextures }));
        expect(y.shape).toEqual(c.t("y").shape);
        expectClose(await y.read(), c.t("y"), 1e-5, c.name);
        for (const t of [a, b, y]) t.dispose();
      });
    }
  }
});

describe("matmul's fused epilogue (residual + scale ⊙ act(alpha·A·B + bias)) vs PyTorch", async () => {
  const cases = await loadFixtures("matmul_epilogue");
  for (const [variant, flavor, stageTextures, kBlock] of VARIANTS) {
    for (const c of cases) {
      test(`${variant} ${c.name}`, async () => {
        const { maxBindingBytes, ...p } = c.params as unknown as P & { maxBindingBytes: number };
        const e = await testEngine(maxBindingBytes ? { maxBindingBytes } : {});
        const [bias, scale, residual] = ["bias", "scale", "residual"].map((k) => upload(e, c.t(k)));
        const y = e.scope(() =>
          matmul(upload(e, c.t("a")), upload(e, c.t("b")), {
            ...p,
            bias,
            scale,
            residual,
            flavor,
            stageTextures,
            kBlock,
          }),
        );
        expectClose(await y.read(), c.t("y"), 1e-5, c.name);
        for (const t of [y, bias!, scale!, residual!]) t.dispose();
      });
    }
  }

  test("a residual of another shape, or a scale of another length, is a ShapeError", async () => {
    const e = await testEngine();
    const [a, b] = [e.zeros([3, 4]), e.zeros([4, 5])];
    const wrong = e.zeros([5, 3]);
    expect(() => matmul(a, b, { residual: wrong })).toThrow(
      /residual is \[5, 3\], expected the result's shape \[3, 5\]/,
    );
    expect(() => matmul(a, b, { scale: wrong.reshape([15]) })).toThrow(ShapeError);
    expect(() => matmul(a, b, { scale: e.zeros([3]) })).toThrow(/scale has 3 elements, expected 5/);
    for (const t of [a, b, wrong]) t.dispose();
  });
});

describe("matmul K-split for a row-major b over the binding limit", async () => {
  test("splits along K, accumulates, applies bias and activation once (both flavors)", async () => {
    const small = await testEngine({ maxBindingBytes: 4096 });
    // b is [40, 55] f32 = 8.8 KB over a 4 KB limit, a [8, 40] and the result fit: K slices of 16 rows.
    const [M, K, N] = [8, 40, 55];
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37));
    const b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.11));
    const bias = Float32Array.from({ length: M }, (_, i) => i * 0.1 - 0.4);
    const want = new Float32Array(M * N);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[m * K + k]! * b[k * N + n]!;
        want[m * N + n] = Math.max(0, 0.5 * s + bias[m]!);
      }
    }
    for (const flavor of ["cpu", "gpu"] as const) {
      const y = small.scope(() =>
        matmul(small.tensor(a, [M, K]), small.tensor(b, [K, N]), {
          bias: small.tensor(bias, [M]),
          biasAxis: "m",
          activation: "relu",
          alpha: 0.5,
          flavor,
        }),
      );
      expectClose(await y.read(), want, 1e-5, `k-split ${flavor}`);
      y.dispose();
    }
  });
});

describe("matmul with a texture-fed left operand (CPU flavor)", async () => {
  test("equals the storage-buffer kernel: odd M, batched broadcast B, bias per row or column, GELU", async () => {
    const e = await testEngine();
    const [M, K, N] = [70, 36, 44];
    const aData = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.13));
    const tex = MatrixTexture.tryCreate(e, aData, M, K);
    expect(tex).not.toBeNull();
    const a = e.tensor(aData, [M, K]);
    const b = e.tensor(
      Float32Array.from({ length: 2 * K * N }, (_, i) => Math.cos(i * 0.07)),
      [2, K, N],
    );
    for (const [biasAxis, n] of [
      ["m", M],
      ["n", N],
    ] as const) {
      const bias = e.tensor(
        Float32Array.from({ length: n }, (_, i) => i * 0.01 - 0.2),
        [n],
      );
      const opts = { bias, biasAxis, activation: "gelu" as const, alpha: 0.7, flavor: "cpu" as const };
      const want = matmul(a, b, opts);
      const got = matmul(a, b, { ...opts, aTexture: tex });
      expect(got.shape).toEqual([2, M, N]);
      expectClose(await got.read(), await want.read(), 1e-6, `texture ${biasAxis}`);
      for (const t of [bias, want, got]) t.dispose();
    }
    // The same for a Linear weight W [N, K] on the right (x · Wᵀ), batched x, odd N.
    const wData = Float32Array.from({ length: 37 * K }, (_, i) => Math.cos(i * 0.21));
    const wTex = MatrixTexture.tryCreate(e, wData, 37, K);
    const w = e.tensor(wData, [37, K]);
    const x = e.tensor(
      Float32Array.from({ length: 3 * 11 * K }, (_, i) => Math.sin(i * 0.05)),
      [3, 11, K],
    );
    const bias = e.tensor(
      Float32Array.from({ length: 37 }, (_, i) => i * 0.02),
      [37],
    );
    const want = matmul(x, w, { transB: true, bias, activation: "relu", flavor: "cpu" });
    const got = matmul(x, w, { transB: true, bias, activation: "relu", flavor: "cpu", bTexture: wTex });
    expectClose(await got.read(), await want.read(), 1e-6, "texture b");
    for (const t of [w, x, bias, want, got]) t.dispose();
    wTex!.dispose();
    expect(MatrixTexture.tryCreate(e, new Float32Array(6), 2, 3)).toBeNull(); // K % 4 != 0: plain tensor path
    tex!.dispose();
    a.dispose();
    b.dispose();
  });
});
