import { describe, expect, test } from "vitest";
import { Engine } from "./engine.js";
import {
  BufferSizeError,
  DeviceLostError,
  DisposedTensorError,
  DTypeError,
  ShaderCompilationError,
  ShapeError,
} from "./errors.js";
import { add } from "./ops/binary.js";
import { NO_F16, testEngine } from "./testing/harness.js";

describe("engine", async () => {
  const e = await testEngine();

  test("requests the adapter's own limits, not the WebGPU defaults", () => {
    expect(e.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(e.limits.maxBufferSize).toBeGreaterThan(256 * 2 ** 20);
    expect(["cpu", "gpu"]).toContain(e.flavor);
  });

  test("software adapters (lavapipe under Node, SwiftShader in Chromium) get the CPU kernel flavor", () => {
    const text = `${e.adapterInfo.vendor} ${e.adapterInfo.architecture} ${e.adapterInfo.description}`.toLowerCase();
    const software = /llvmpipe|lavapipe|swiftshader/.test(text);
    expect(e.flavor).toBe(software ? "cpu" : "gpu");
  });

  test("upload/download round-trips f32, i32 and u32", async () => {
    expect(Array.from(await e.tensor([1.5, -2, 3], [3]).read())).toEqual([1.5, -2, 3]);
    expect(Array.from(await e.tensor(new Int32Array([-7, 8]), [2]).read())).toEqual([-7, 8]);
    expect(Array.from(await e.tensor(new Uint32Array([4e9]), [1]).read())).toEqual([4e9]);
  });

  test("upload/download round-trips f16", async ({ skip }) => {
    skip(!e.hasF16, NO_F16);
    expect(Array.from(await e.tensor([0.5, 3], [2], "f16").read())).toEqual([0.5, 3]);
  });

  test("bad uploads are typed errors", () => {
    expect(() => e.tensor([1, 2, 3], [2, 2])).toThrow(ShapeError);
    expect(() => e.tensor(new Int32Array(2), [2], "f32")).toThrow(DTypeError);
    expect(() => e.tensor([0.5], [1], "i32")).toThrow(DTypeError);
    // One element past the adapter's maxBufferSize (64 GiB was enough on lavapipe; an H100 allows 1 TiB).
    const rows = Math.ceil(e.limits.maxBufferSize / 4 / 1024) + 1;
    expect(() => e.empty([rows, 1024])).toThrow(BufferSizeError);
  });

  test("a disposed tensor cannot be used, and says so", () => {
    const a = e.tensor([1, 2], [2]);
    a.dispose();
    expect(() => add(a, a)).toThrow(DisposedTensorError);
    expect(() => a.reshape([1, 2])).toThrow(/used after it was disposed/);
  });

  test("scope frees what it created except the result; buffers are reused from the pool", async () => {
    const before = e.memory().liveBytes;
    const kept = e.scope(() => {
      const a = e.tensor([1, 2, 3, 4], [4]);
      const b = add(a, a);
      return add(b, a);
    });
    expect(e.memory().liveBytes - before).toBe(16);
    expect(Array.from(await kept.read())).toEqual([3, 6, 9, 12]);
    kept.dispose();
    expect(e.memory().liveBytes).toBe(before);
    const free = e.memory().freeBytes;
    const again = e.tensor([1, 2, 3, 4], [4]);
    expect(e.memory().freeBytes).toBe(free - 16);
    again.dispose();
    const asyncKept = await e.scope(async () => {
      const a = e.tensor([1], [1]);
      await a.read();
      return { out: add(a, a) };
    });
    expect(Array.from(await asyncKept.out.read())).toEqual([2]);
    asyncKept.out.dispose();
    expect(e.memory().liveBytes).toBe(before);
  });

  test("keep() lets a tensor outlive the scope it was created in", async () => {
    let cached: ReturnType<typeof e.tensor> | null = null;
    e.scope(() => {
      cached = e.keep(e.tensor([5, 6], [2]));
      e.tensor([7], [1]);
    });
    expect(Array.from(await cached!.read())).toEqual([5, 6]);
    cached!.dispose();
  });

  test("buffers dropped past the pool budget are only destroyed after the work using them is submitted", async () => {
    const tight = await Engine.create({ poolBytes: 0 });
    const y = tight.scope(() => {
      const a = tight.tensor([1, 2, 3, 4], [4]);
      const b = add(a, a);
      a.dispose(); // released (and retired) while the add is still only encoded
      return add(b, b);
    });
    expect(Array.from(await y.read())).toEqual([4, 8, 12, 16]);
    tight.destroy();
  });

  test("reshape views share storage and free it with the last view", async () => {
    const before = e.memory().liveBytes;
    const a = e.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const v = a.reshape([3, -1]);
    expect(v.shape).toEqual([3, 2]);
    a.dispose();
    expect(Array.from(await v.read())).toEqual([1, 2, 3, 4, 5, 6]);
    v.dispose();
    expect(e.memory().liveBytes).toBe(before);
    expect(() => e.tensor([1, 2], [2]).reshape([3])).toThrow(ShapeError);
  });

  test("a shader that does not compile is a ShaderCompilationError quoting the WGSL line", async () => {
    const out = e.empty([1]);
    e.run({
      name: "broken_kernel",
      key: "broken",
      params: [],
      inputs: [],
      outputs: [out.binding()],
      workgroups: [1, 1, 1],
      wgsl: () =>
        "struct Params { _unused: u32 }\n@group(0) @binding(0) var<uniform> p: Params;\n" +
        "@group(0) @binding(1) var<storage, read_write> y: array<f32>;\n" +
        "@compute @workgroup_size(1) fn main() {\n  y[0] = undefined_symbol;\n}",
    });
    const err = await out.read().then(
      () => null,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(ShaderCompilationError);
    expect((err as ShaderCompilationError).message).toMatch(/line 5.*undefined_symbol/s);
    out.dispose();
  });

  test("a lost device is reported as DeviceLostError on the next use", async () => {
    const doomed = await Engine.create();
    const t = doomed.tensor([1, 2], [2]);
    doomed.destroy();
    await doomed.device.lost;
    expect(() => doomed.zeros([2])).toThrow(DeviceLostError);
    expect(() => add(t, t)).toThrow(/device is lost/);
  });
});
