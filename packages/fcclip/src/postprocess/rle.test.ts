import { expect, test } from "vitest";
import { decodeRle, rleColumnMajor } from "./rle.js";

test("RLE: column-major runs starting with zeros, and back", () => {
  // 2×3, row-major: 0 1 1 / 0 0 1 → column-major 0 0 1 0 1 1.
  const mask = Uint8Array.from([0, 1, 1, 0, 0, 1]);
  const counts = rleColumnMajor((y, x) => mask[y * 3 + x] === 1, 2, 3);
  expect(counts).toEqual([2, 1, 1, 2]);
  expect(decodeRle({ size: [2, 3], counts })).toEqual(mask);
  // A mask starting with ones has an empty first run.
  expect(rleColumnMajor(() => true, 2, 2)).toEqual([0, 4]);
  // A fixed pseudo-random mask: bit 3 of i·2654435761 mod 2³².
  const random = Uint8Array.from({ length: 37 * 23 }, (_, i) => (Math.imul(i, 2654435761) >>> 3) & 1);
  const rle = {
    size: [37, 23] as [number, number],
    counts: rleColumnMajor((y, x) => random[y * 23 + x] === 1, 37, 23),
  };
  expect(decodeRle(rle)).toEqual(random);
  expect(() => decodeRle({ size: [2, 2], counts: [1, 2] })).toThrow(/cover 3 pixels/);
});
