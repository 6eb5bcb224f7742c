import { describe, expect, test } from "vitest";
import { DTypeError, ShapeError } from "../errors.js";
import { NO_F16, testEngine } from "../testing/harness.js";
import { cast, concat, fill, pad, permute, slice, transpose } from "./copy.js";
import { embedding } from "./embedding.js";

// Data movement has exact answers, so these compare with hand-computed values (NumPy semantics).
const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe("data movement", async () => {
  const e = await testEngine();

  test("permute matches index arithmetic on a rank-4 tensor", async () => {
    const x = e.tensor(iota(2 * 3 * 4 * 5), [2, 3, 4, 5]);
    const y = permute(x, [2, 0, 3, 1]);
    expect(y.shape).toEqual([4, 2, 5, 3]);
    const got = await y.read();
    const want = new Float32Array(120);
    let o = 0;
    for (let c = 0; c < 4; c++)
      for (let a = 0; a < 2; a++)
        for (let d = 0; d < 5; d++) for (let b = 0; b < 3; b++) want[o++] = ((a * 3 + b) * 4 + c) * 5 + d;
    expect(Array.from(got)).toEqual(Array.from(want));
    const t = transpose(e.tensor(iota(6), [2, 3]));
    expect(Array.from(await t.read())).toEqual([0, 3, 1, 4, 2, 5]);
    for (const v of [x, y, t]) v.dispose();
  });

  test("slice with negative indices and steps", async () => {
    const x = e.tensor(iota(4 * 6), [4, 6]);
    const y = slice(x, [{ start: -3 }, { start: 1, end: -1, step: 2 }]);
    expect(y.shape).toEqual([3, 2]);
    expect(Array.from(await y.read())).toEqual([7, 9, 13, 15, 19, 21]);
    x.dispose();
    y.dispose();
  });

  test("concat along the middle axis, pad with a value", async () => {
    const a = e.tensor(iota(4), [2, 2]);
    const b = e.tensor(Float32Array.from([10, 11, 12, 13, 14, 15]), [2, 3]);
    const c = concat([a, b], 1);
    expect(Array.from(await c.read())).toEqual([0, 1, 10, 11, 12, 2, 3, 13, 14, 15]);
    const p = pad(
      a,
      [
        [1, 0],
        [0, 2],
      ],
      -1,
    );
    expect(p.shape).toEqual([3, 4]);
    expect(Array.from(await p.read())).toEqual([-1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1]);
    expect(() => concat([a, e.zeros([3, 3])], 1)).toThrow(ShapeError);
    for (const v of [a, b, c, p]) v.dispose();
  });

  test("cast f32 → f16 → f32 rounds to nearest even; integers convert", async ({ skip }) => {
    skip(!e.hasF16, NO_F16);
    const x = e.tensor(Float32Array.from([1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, -0.1]), [5]);
    const h = cast(x, "f16");
    expect(h.dtype).toBe("f16");
    expect(Array.from(await cast(h, "f32").read())).toEqual([1, 1, 1 + 2 ** -9, 65504, Math.fround(-0.0999755859375)]);
    const i = cast(e.tensor(new Int32Array([-3, 7]), [2]), "f32");
    expect(Array.from(await i.read())).toEqual([-3, 7]);
    const f = fill(e, [3], 7, "i32");
    expect(Array.from(await f.read())).toEqual([7, 7, 7]);
  });

  test("embedding gathers rows, also from a table split into binding windows", async () => {
    const small = await testEngine({ maxBindingBytes: 1024 });
    const V = 300;
    const D = 5; // 6000 bytes: six windows of 1024 bytes, whose starts are not row-aligned
    const table = Float32Array.from({ length: V * D }, (_, i) => i * 0.5);
    const ids = [0, 299, 51, 52, 204, 7];
    for (const eng of [e, small]) {
      const y = eng.scope(() => embedding(eng.tensor(table, [V, D]), eng.tensor(Int32Array.from(ids), [2, 3])));
      expect(y.shape).toEqual([2, 3, D]);
      expect(Array.from(await y.read())).toEqual(ids.flatMap((r) => Array.from(table.subarray(r * D, r * D + D))));
      y.dispose();
    }
    const bad = e.tensor(iota(4), [4]);
    expect(() => embedding(e.zeros([3, 2]), bad)).toThrow(DTypeError);
  });
});
