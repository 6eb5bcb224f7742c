import { readFileSync } from "node:fs";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { applyOrientation, decodeImage, ImageDecodeError, jpegOrientation } from "./decode.js";

/** A JPEG with an EXIF APP1 segment carrying the given orientation. */
function jpegWithOrientation(orientation: number, width = 4, height = 2): Uint8Array {
  const rgba = new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));
  const plain = jpeg.encode({ data: rgba, width, height }, 95).data;
  const tiff = [
    0x4d,
    0x4d,
    0,
    42,
    0,
    0,
    0,
    8,
    0,
    1,
    0x01,
    0x12,
    0,
    3,
    0,
    0,
    0,
    1,
    0,
    orientation,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  const app1 = [0xff, 0xe1, 0, 2 + 6 + tiff.length, 0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  return Uint8Array.from([...plain.subarray(0, 2), ...app1, ...plain.subarray(2)]);
}

describe("image decoding", () => {
  test.skipIf(!HAS_SHARED)(`PNG: chelsea decodes to 451×300 RGB (${HAS_SHARED ? "oracle image" : NO_SHARED})`, () => {
    const img = decodeImage(readFileSync(join(SHARED, "oracle", "tiny", "images", "chelsea.png")), "chelsea.png");
    expect([img.width, img.height, img.data.length]).toEqual([451, 300, 451 * 300 * 3]);
  });

  test("JPEG EXIF orientation is read and applied like PIL.ImageOps.exif_transpose", () => {
    for (const o of [1, 3, 6, 8]) {
      const bytes = jpegWithOrientation(o);
      expect(jpegOrientation(bytes)).toBe(o);
      const img = decodeImage(bytes);
      expect([img.width, img.height]).toEqual(o >= 5 ? [2, 4] : [4, 2]);
    }
    // 2×1 image [A, B]: orientation 6 (rotate 90° clockwise) gives a 1×2 column [A; B]; 8 gives [B; A].
    const ab = { width: 2, height: 1, data: Uint8Array.from([1, 1, 1, 2, 2, 2]) };
    expect(Array.from(applyOrientation(ab, 6).data)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(Array.from(applyOrientation(ab, 8).data)).toEqual([2, 2, 2, 1, 1, 1]);
    expect(Array.from(applyOrientation(ab, 3).data)).toEqual([2, 2, 2, 1, 1, 1]);
  });

  test("non-images and broken files are ImageDecodeErrors", () => {
    expect(() => decodeImage(new TextEncoder().encode("hello"), "a.txt")).toThrow(ImageDecodeError);
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 1]);
    expect(() => decodeImage(png, "cut.png")).toThrow(/cut\.png: not a readable image/);
  });
});
