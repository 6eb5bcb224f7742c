import { ShapeError } from "@fcclip/tensor-core";
import type { RgbImage } from "./rgb-image.js";

/** Pillow's resampling filters (libImaging/Resample.c) with their support radius. */
const FILTERS = {
  bilinear: { support: 1, f: (x: number) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  bicubic: {
    support: 2,
    f: (x: number) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
} as const;

export type PillowFilter = keyof typeof FILTERS;

const PRECISION_BITS = 22;

/**
 * Per-output-pixel taps, as Pillow's precompute_coeffs + normalize_coeffs_8bpc compute them (double precision, the
 * support widened by the downscale factor so shrinking antialiases, weights normalised, then 22-bit fixed point).
 */
function coefficients(inSize: number, outSize: number, filter: PillowFilter) {
  const { support: radius, f } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = radius * filterScale;
  const bounds: [number, number][] = [];
  const weights: Int32Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const w = new Float64Array(xmax);
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = f((x + xmin - center + 0.5) / filterScale);
      sum += w[x]!;
    }
    const k = new Int32Array(xmax);
    for (let x = 0; x < xmax; x++) {
      const v = sum !== 0 ? w[x]! / sum : w[x]!;
      k[x] = Math.trunc(v < 0 ? -0.5 + v * 2 ** PRECISION_BITS : 0.5 + v * 2 ** PRECISION_BITS);
    }
    bounds.push([xmin, xmax]);
    weights.push(k);
  }
  return { bounds, weights };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return Math.min(255, Math.max(0, v));
}

/**
 * PIL.Image.resize on an RGB uint8 image, bit-exact: horizontal pass first into a uint8 image, then the vertical pass
 * (a pass whose size does not change is skipped). This is what detectron2's ResizeTransform and torchvision's
 * Resize on PIL images run.
 */
export function resizePillow(img: RgbImage, width: number, height: number, filter: PillowFilter): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ShapeError(`resize: target size ${width}×${height} must be positive integers`);
  }
  let cur = img;
  if (width !== img.width) {
    const { bounds, weights } = coefficients(img.width, width, filter);
    const out = new Uint8Array(width * img.height * 3);
    for (let y = 0; y < img.height; y++) {
      const row = y * img.width * 3;
      for (let x = 0; x < width; x++) {
        const [xmin, n] = bounds[x]!;
        const k = weights[x]!;
        let r = 1 << (PRECISION_BITS - 1);
        let g = r;
        let b = r;
        for (let i = 0; i < n; i++) {
          const p = row + (xmin + i) * 3;
          r += img.data[p]! * k[i]!;
          g += img.data[p + 1]! * k[i]!;
          b += img.data[p + 2]! * k[i]!;
        }
        const o = (y * width + x) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    cur = { width, height: img.height, data: out };
  }
  if (height !== cur.height) {
    const { bounds, weights } = coefficients(cur.height, height, filter);
    const out = new Uint8Array(cur.width * height * 3);
    for (let y = 0; y < height; y++) {
      const [ymin, n] = bounds[y]!;
      const k = weights[y]!;
      for (let x = 0; x < cur.width; x++) {
        let r = 1 << (PRECISION_BITS - 1);
        let g = r;
        let b = r;
        for (let i = 0; i < n; i++) {
          const p = ((ymin + i) * cur.width + x) * 3;
          r += cur.data[p]! * k[i]!;
          g += cur.data[p + 1]! * k[i]!;
          b += cur.data[p + 2]! * k[i]!;
        }
        const o = (y * cur.width + x) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    cur = { width: cur.width, height, data: out };
  }
  return cur === img ? { ...img, data: img.data.slice() } : cur;
}
