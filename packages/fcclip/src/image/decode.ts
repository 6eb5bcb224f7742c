import type { RgbImage } from "@fcclip/clip";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { FcclipError } from "../errors.js";

/** The input is not an image we can read (or not an image at all). */
export class ImageDecodeError extends FcclipError {
  override name = "ImageDecodeError";
}

/** EXIF orientation (tag 0x0112) of a JPEG, 1 when absent. */
export function jpegOrientation(bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 2;
  while (p + 4 <= bytes.length && bytes[p] === 0xff) {
    const marker = bytes[p + 1]!;
    const len = v.getUint16(p + 2);
    if (marker === 0xe1 && p + 10 <= bytes.length && String.fromCharCode(...bytes.subarray(p + 4, p + 8)) === "Exif") {
      const tiff = p + 10;
      if (tiff + 8 > bytes.length) return 1;
      const le = bytes[tiff] === 0x49;
      const ifd = tiff + v.getUint32(tiff + 4, le);
      if (ifd + 2 > bytes.length) return 1;
      const entries = v.getUint16(ifd, le);
      for (let i = 0; i < entries; i++) {
        const e = ifd + 2 + i * 12;
        if (e + 12 > bytes.length) return 1;
        if (v.getUint16(e, le) === 0x0112) {
          const o = v.getUint16(e + 8, le);
          return o >= 1 && o <= 8 ? o : 1;
        }
      }
      return 1;
    }
    if (marker === 0xda) break;
    p += 2 + len;
  }
  return 1;
}

/** Applies an EXIF orientation like PIL.ImageOps.exif_transpose. */
export function applyOrientation(img: RgbImage, orientation: number): RgbImage {
  if (orientation === 1) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Source pixel (sx, sy) of output (x, y) for each orientation.
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2:
          [sx, sy] = [w - 1 - x, y];
          break;
        case 3:
          [sx, sy] = [w - 1 - x, h - 1 - y];
          break;
        case 4:
          [sx, sy] = [x, h - 1 - y];
          break;
        case 5:
          [sx, sy] = [y, x];
          break;
        case 6:
          [sx, sy] = [y, h - 1 - x];
          break;
        case 7:
          [sx, sy] = [w - 1 - y, h - 1 - x];
          break;
        default:
          [sx, sy] = [w - 1 - y, x];
          break;
      }
      out.set(data.subarray((sy * w + sx) * 3, (sy * w + sx) * 3 + 3), (y * W + x) * 3);
    }
  }
  return { width: W, height: H, data: out };
}

function dropAlpha(rgba: Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    data[j] = rgba[i * 4]!;
    data[j + 1] = rgba[i * 4 + 1]!;
    data[j + 2] = rgba[i * 4 + 2]!;
  }
  return { width, height, data };
}

/**
 * PNG or JPEG bytes → RGB, EXIF orientation applied, alpha dropped (Pillow's convert("RGB")). PNG decoding is exact;
 * JPEG decoders differ from libjpeg by a few levels on some pixels, so JPEG inputs match Pillow only approximately.
 */
export function decodeImage(bytes: Uint8Array, name = "image"): RgbImage {
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return dropAlpha(
        new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
        png.width,
        png.height,
      );
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
      return applyOrientation(dropAlpha(img.data, img.width, img.height), jpegOrientation(bytes));
    }
  } catch (e) {
    throw new ImageDecodeError(`${name}: not a readable image (${(e as Error).message})`);
  }
  throw new ImageDecodeError(`${name}: not a PNG or JPEG file`);
}
