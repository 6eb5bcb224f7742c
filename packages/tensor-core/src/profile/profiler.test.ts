import { describe, expect, test } from "vitest";
import { TensorCoreError } from "../errors.js";
import { add } from "../ops/binary.js";
import { conv2d } from "../ops/conv2d.js";
import { matmul } from "../ops/matmul/index.js";
import { unary } from "../ops/unary.js";
import { testEngine } from "../testing/harness.js";
import { opKind, Profile } from "./profile.js";

describe("profiler", async () => {
  const e = await testEngine();
  const modes = e.device.features.has("timestamp-query") ? (["timestamp", "submit"] as const) : (["submit"] as const);

  test.each(modes)("%s mode times every dispatch with its kind, shape, stage and first use", async (mode) => {
    const x = e.tensor(
      Float32Array.from({ length: 96 * 64 }, (_, i) => Math.sin(i)),
      [96, 64],
    );
    const w = e.tensor(
      Float32Array.from({ length: 64 * 40 }, (_, i) => Math.cos(i)),
      [64, 40],
    );
    const img = e.tensor(new Float32Array(2 * 9 * 11).fill(1), [1, 2, 9, 11]);
    const k = e.tensor(new Float32Array(2 * 1 * 3 * 3).fill(0.5), [2, 1, 3, 3]);
    // A pipeline key no other test builds, so its first dispatch is a first use in this profile.
    const activation = mode === "timestamp" ? "relu" : "gelu";
    e.startProfile(mode);
    await e.stage("first");
    const y = matmul(x, w, { activation, stageTextures: false });
    const z = matmul(x, w, { activation, stageTextures: false });
    await e.stage("second");
    const c = conv2d(img, k, { padding: 1, groups: 2 });
    const s = unary(add(y, z), "relu");
    const profile = await e.stopProfile();
    expect(profile.mode).toBe(mode);
    expect(profile.dispatches.map((d) => [d.name, d.stage])).toEqual([
      ["matmul", "first"],
      ["matmul", "first"],
      ["conv2d_depthwise", "second"],
      ["binary_add", "second"],
      ["unary_relu", "second"],
    ]);
    const [m1, m2, conv] = profile.dispatches;
    expect(m1!.label).toBe("96×64·64→40");
    expect(conv!.label).toBe("3×3 2→2 g2 9×11");
    expect(m1!.firstUse).toBe(true);
    expect(m2!.firstUse).toBe(false);
    for (const d of profile.dispatches) expect(d.ms).toBeGreaterThan(0);
    expect(profile.stages.map((st) => st.name)).toEqual(["first", "second"]);

    const sum = profile.summary();
    const total = profile.dispatches.reduce((a, d) => a + d.ms, 0);
    expect(sum.gpuMs).toBeCloseTo(total, 6);
    expect(sum.coldMs).toBeCloseTo(
      m1!.ms + profile.dispatches.slice(2).reduce((a, d) => a + (d.firstUse ? d.ms : 0), 0),
      6,
    );
    const mm = sum.kinds.find((kk) => kk.kind === "matmul")!;
    expect(mm.count).toBe(2);
    expect(mm.ms).toBeCloseTo(m1!.ms + m2!.ms, 6);
    expect(sum.stages.map((st) => [st.name, st.kinds.map((kk) => kk.kind).sort()])).toEqual([
      ["first", ["matmul"]],
      ["second", ["depthwise conv", "elementwise"]],
    ]);
    // Device time of a stage fits within its wall time: both clocks measure the same work.
    for (const st of sum.stages) expect(st.gpuMs).toBeLessThanOrEqual(st.wallMs + 1);
    expect(sum.shapes[0]!.ms).toBeGreaterThanOrEqual(sum.shapes.at(-1)!.ms);
    const text = profile.format();
    expect(text).toMatch(mode === "timestamp" ? /GPU timestamp queries/ : /one submit per dispatch/);
    expect(text).toMatch(/matmul 96×64·64→40/);
    // Profiling changes no result.
    expect(Array.from(await s.read()).every((v) => v >= 0)).toBe(true);
    expect((await c.read())[0]).toBe(2);
    expect(e.profiling).toBe(false);
  });

  test("more dispatches than one submit batch holds are all timed", async () => {
    const a = e.tensor(new Float32Array(8).fill(1), [8]);
    e.startProfile();
    let x = a;
    for (let i = 0; i < 1100; i++) x = add(x, a);
    const profile = await e.stopProfile();
    expect(profile.dispatches.length).toBe(1100);
    expect((await x.read())[0]).toBe(1101);
  });

  test("misuse is a typed error", async () => {
    await expect(e.stopProfile()).rejects.toThrow(TensorCoreError);
    e.startProfile();
    expect(() => e.startProfile()).toThrow(/already running/);
    await e.stopProfile();
    // Without a profile, stage() is a no-op.
    await expect(e.stage("ignored")).resolves.toBeUndefined();
  });

  test("op kinds group tensor-core's programs; other programs are their own kind", () => {
    expect(opKind("matmul_texture_b")).toBe("matmul");
    expect(opKind("layer_norm_rows")).toBe("norm");
    expect(opKind("group_norm")).toBe("norm");
    expect(opKind("copy_strided")).toBe("copies / permutes");
    expect(opKind("reduce_sum")).toBe("reductions");
    expect(opKind("attention_mask_from_logits")).toBe("softmax / attention");
    expect(opKind("resize_crop_resize")).toBe("post-processing");
    expect(opKind("pack_positive_bits")).toBe("post-processing");
    expect(opKind("my_kernel")).toBe("my_kernel");
    const p = new Profile("timestamp", [], [{ name: "empty", wallMs: 3 }]);
    expect(p.summary().stages).toEqual([{ name: "empty", wallMs: 3, gpuMs: 0, coldMs: 0, kinds: [] }]);
  });
});
