import { describe, expect, test } from "vitest";
import { DTypeError, ShapeError } from "../errors.js";
import { expectClose, loadFixtures, testEngine, upload } from "../testing/harness.js";
import { slice } from "./copy.js";
import { interpolate } from "./interpolate.js";
import { matmul } from "./matmul/index.js";
import { type ResizeCropGeometry, resizeCropResize } from "./resize-crop-resize.js";
import { unary } from "./unary.js";

describe("resizeCropResize vs PyTorch (interpolate → [sigmoid] → crop → interpolate)", async () => {
  const e = await testEngine();
  for (const c of await loadFixtures("resize_crop_resize")) {
    test(`${c.name}, in chunks of output pixels`, async () => {
      const { sigmoidBetween, ...geo } = c.params as unknown as ResizeCropGeometry & { sigmoidBetween: boolean };
      const x = upload(e, c.t("x"));
      const [C, total] = c.t("y").shape as [number, number];
      const got = new Float32Array(C * total);
      // Chunks padded to a multiple of 32 pixels, as FC-CLIP streams them; the padding repeats the last pixel.
      for (let p0 = 0; p0 < total; p0 += 96) {
        const valid = Math.min(96, total - p0);
        const t = resizeCropResize(x, geo, p0, Math.ceil(valid / 32) * 32, sigmoidBetween);
        const count = t.shape[1]!;
        const v = await t.read();
        for (let q = 0; q < C; q++) {
          got.set(v.subarray(q * count, q * count + valid), q * total + p0);
          for (let i = valid; i < count; i++) expect(v[q * count + i]).toBe(v[q * count + valid - 1]);
        }
        t.dispose();
      }
      expectClose(got, c.t("y"), 1e-6, c.name);
      x.dispose();
    });
  }

  test("inputs that do not match the geometry, bad geometries and pixel ranges are refused", () => {
    const geo: ResizeCropGeometry = { low: [5, 7], padded: [20, 28], cropped: [18, 25], original: [31, 43] };
    const x = e.zeros([3, 5, 7]);
    expect(() => resizeCropResize(x, { ...geo, low: [5, 8] }, 0, 32)).toThrow(ShapeError);
    expect(() => resizeCropResize(x, { ...geo, low: [5, 8] }, 0, 32)).toThrow(
      /x \[3, 5, 7\] must be \[C, 5, 8\] \(geometry.low\)/,
    );
    expect(() => resizeCropResize(x.reshape([15, 7]), geo, 0, 32)).toThrow(/x must have rank 3/);
    expect(() => resizeCropResize(x, { ...geo, cropped: [21, 25] }, 0, 32)).toThrow(
      /the crop \[21, 25\] must fit in the resized \[20, 28\]/,
    );
    expect(() => resizeCropResize(x, { ...geo, original: [0, 43] }, 0, 32)).toThrow(
      /geometry.original must be two positive integers/,
    );
    expect(() => resizeCropResize(x, geo, 31 * 43, 32)).toThrow(/p0 must be an output pixel index in \[0, 1333\)/);
    expect(() => resizeCropResize(x, geo, -1, 32)).toThrow(ShapeError);
    expect(() => resizeCropResize(x, geo, 0, 2.5)).toThrow(/count must be a non-negative integer, got 2.5/);
    const i = e.zeros([3, 5, 7], "i32");
    expect(() => resizeCropResize(i, geo, 0, 32)).toThrow(DTypeError);
    x.dispose();
    i.dispose();
  });
});

const geo: ResizeCropGeometry = {
  low: [5, 7],
  padded: [20, 28],
  cropped: [18, 25],
  original: [31, 43],
};

test("FC-CLIP's final mask logits equal resize → crop → resize with the verified interpolate op, for any pixel chunk", async () => {
  const e = await testEngine();
  const Q = 3;
  const low = e.tensor(
    Float32Array.from({ length: Q * 35 }, (_, i) => Math.sin(i * 0.7) * 4),
    [Q, 5, 7],
  );
  const ref = e.scope(() => {
    const up = interpolate(low.reshape([1, Q, 5, 7]), { size: geo.padded });
    const crop = slice(up, [undefined, undefined, { end: 18 }, { end: 25 }]);
    return interpolate(crop, { size: geo.original }).reshape([Q, 31 * 43]);
  });
  const want = await ref.read();
  const total = 31 * 43;
  const got = new Float32Array(Q * total);
  for (let p0 = 0; p0 < total; p0 += 320) {
    const valid = Math.min(320, total - p0);
    const t = resizeCropResize(low, geo, p0, Math.ceil(valid / 32) * 32);
    const v = await t.read();
    for (let q = 0; q < Q; q++) got.set(v.subarray(q * t.shape[1]!, q * t.shape[1]! + valid), q * total + p0);
    t.dispose();
  }
  expectClose(got, want, 1e-6, "final logits");
});

test("sigmoid-between chunks give the class map resized after inference (semantic-only configs)", async () => {
  const e = await testEngine();
  const Q = 3;
  const K = 2;
  const low = e.tensor(
    Float32Array.from({ length: Q * 35 }, (_, i) => Math.cos(i * 0.3) * 3),
    [Q, 5, 7],
  );
  const w = e.tensor(Float32Array.from([0.2, 0.5, 0.3, 0.6, 0.1, 0.3]), [K, Q]);
  // Official order: semantic map at the padded size, crop, then resize the K-channel map.
  const ref = e.scope(() => {
    const up = unary(interpolate(low.reshape([1, Q, 5, 7]), { size: geo.padded }), "sigmoid").reshape([Q, 20 * 28]);
    const sem = matmul(w, up).reshape([1, K, 20, 28]);
    return interpolate(slice(sem, [undefined, undefined, { end: 18 }, { end: 25 }]), { size: geo.original }).reshape([
      K,
      31 * 43,
    ]);
  });
  const probs = resizeCropResize(low, geo, 0, 31 * 43 + 11, true);
  const ours = matmul(w, probs);
  const a = await ours.read();
  const b = await ref.read();
  const trimmed = new Float32Array(K * 31 * 43);
  for (let k = 0; k < K; k++) trimmed.set(a.subarray(k * (31 * 43 + 11), k * (31 * 43 + 11) + 31 * 43), k * 31 * 43);
  expectClose(trimmed, b, 1e-5, "semantic after inference");
  expect(probs.shape).toEqual([Q, 31 * 43 + 11]);
});
