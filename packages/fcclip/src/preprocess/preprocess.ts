import { type RgbImage, resizePillow } from "@fcclip/clip";
import { type Engine, ShapeError, type Tensor } from "@fcclip/tensor-core";

/** MODEL.PIXEL_MEAN / PIXEL_STD of the FC-CLIP configs (255 × OpenAI CLIP's), used as float32 like the buffers. */
export const PIXEL_MEAN = [122.7709383, 116.7460125, 104.09373615] as const;
export const PIXEL_STD = [68.5005327, 66.6321579, 70.32316305] as const;

export interface PreprocessOptions {
  /** INPUT.MIN_SIZE_TEST (800; 1024 for Cityscapes/Mapillary). */
  minSize?: number;
  /** INPUT.MAX_SIZE_TEST (1333; 2560 for Cityscapes/Mapillary). */
  maxSize?: number;
  /** MODEL.MASK_FORMER.SIZE_DIVISIBILITY (32). */
  sizeDivisibility?: number;
}

export interface Preprocessed {
  /** [1, 3, H, W] normalised and zero-padded (bottom/right) to multiples of sizeDivisibility. */
  images: Tensor;
  /** (h, w) after resizing, before padding: what the outputs are cropped to. */
  imageSize: [number, number];
  /** (Ho, Wo): what the outputs are resized to. */
  originalSize: [number, number];
  resized: RgbImage;
}

/** detectron2 ResizeShortestEdge (FCCLIP-SPEC §1.2): the resized (h, w) for an (Ho, Wo) image. */
export function shortestEdgeSize(height: number, width: number, minSize: number, maxSize: number): [number, number] {
  const scale = minSize / Math.min(height, width);
  let [newh, neww] = height < width ? [minSize, scale * width] : [scale * height, minSize];
  if (Math.max(newh, neww) > maxSize) {
    const r = maxSize / Math.max(newh, neww);
    newh *= r;
    neww *= r;
  }
  return [Math.trunc(newh + 0.5), Math.trunc(neww + 0.5)];
}

/**
 * FC-CLIP's test-time input: Pillow-bilinear shortest-edge resize on uint8 (bit-exact), (x − mean)/std in float32 on
 * the 0–255 scale, zero padding after normalisation to the next multiple of 32 (FCCLIP-SPEC §1).
 */
export function preprocess(engine: Engine, img: RgbImage, opts: PreprocessOptions = {}): Preprocessed {
  const minSize = opts.minSize ?? 800;
  const maxSize = opts.maxSize ?? 1333;
  const div = opts.sizeDivisibility ?? 32;
  if (img.width < 1 || img.height < 1) throw new ShapeError(`preprocess: empty image ${img.width}×${img.height}`);
  const [h, w] = shortestEdgeSize(img.height, img.width, minSize, maxSize);
  const resized = h === img.height && w === img.width ? img : resizePillow(img, w, h, "bilinear");
  const H = Math.ceil(h / div) * div;
  const W = Math.ceil(w / div) * div;
  const data = new Float32Array(3 * H * W);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f(PIXEL_MEAN[c]!);
    const std = f(PIXEL_STD[c]!);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        data[(c * H + y) * W + x] = f(f(resized.data[(y * w + x) * 3 + c]! - mean) / std);
      }
    }
  }
  return {
    images: engine.tensor(data, [1, 3, H, W]),
    imageSize: [h, w],
    originalSize: [img.height, img.width],
    resized,
  };
}
