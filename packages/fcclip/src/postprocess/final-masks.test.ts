import { interpolate, matmul, slice, unary } from "@fcclip/tensor-core";
import { expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { finalMaskLogits } from "./final-masks.js";

const geo = {
  low: [5, 7] as [number, number],
  padded: [20, 28] as [number, number],
  cropped: [18, 25] as [number, number],
  original: [31, 43] as [number, number],
};

test("final mask logits equal resize → crop → resize with the verified interpolate op, for any pixel chunk", async () => {
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
    const t = finalMaskLogits(low, geo, p0, Math.ceil(valid / 32) * 32);
    const v = await t.read();
    for (let q = 0; q < Q; q++) got.set(v.subarray(q * t.shape[1]!, q * t.shape[1]! + valid), q * total + p0);
    t.dispose();
  }
  expectClose(got, want, 1e-6, "final logits");
});

test("sigmoid-first chunks give the class map resized after inference (semantic-only configs)", async () => {
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
  const probs = finalMaskLogits(low, geo, 0, 31 * 43 + 11, true);
  const ours = matmul(w, probs);
  const a = await ours.read();
  const b = await ref.read();
  const trimmed = new Float32Array(K * 31 * 43);
  for (let k = 0; k < K; k++) trimmed.set(a.subarray(k * (31 * 43 + 11), k * (31 * 43 + 11) + 31 * 43), k * 31 * 43);
  expectClose(trimmed, b, 1e-5, "semantic after inference");
  expect(probs.shape).toEqual([Q, 31 * 43 + 11]);
});
