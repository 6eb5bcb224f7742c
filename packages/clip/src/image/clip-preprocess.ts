import type { Engine, Tensor } from "@fcclip/tensor-core";
import { resizePillow } from "./pillow-resize.js";
import type { RgbImage } from "./rgb-image.js";

/** OpenAI CLIP normalisation (open_clip's OPENAI_DATASET_MEAN/STD), used by the LAION ConvNeXt CLIP models too. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/**
 * open_clip's eval transform: Resize(size) of the shorter side with Pillow bicubic (torchvision keeps the aspect with
 * int(size·long/short)), CenterCrop(size), ToTensor (/255), Normalize. Returns a [1, 3, size, size] tensor.
 */
export function clipPreprocess(engine: Engine, img: RgbImage, size = 320): Tensor {
  const short = Math.min(img.width, img.height);
  const long = Math.max(img.width, img.height);
  const scaledLong = Math.trunc((size * long) / short);
  const [w, h] = img.width <= img.height ? [size, scaledLong] : [scaledLong, size];
  const resized = w === img.width && h === img.height ? img : resizePillow(img, w, h, "bicubic");
  const top = Math.round((h - size) / 2);
  const left = Math.round((w - size) / 2);
  const out = new Float32Array(3 * size * size);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f(CLIP_MEAN[c]!);
    const std = f(CLIP_STD[c]!);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = f(resized.data[((y + top) * w + x + left) * 3 + c]! / 255);
        out[(c * size + y) * size + x] = f(f(v - mean) / std);
      }
    }
  }
  return engine.tensor(out, [1, 3, size, size]);
}
