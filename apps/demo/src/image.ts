import type { RgbImage } from "@fcclip/clip";

/** The image could not be read. */
export class ImageInputError extends Error {
  override name = "ImageInputError";
}

function rgbFrom(source: CanvasImageSource, width: number, height: number): RgbImage {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", { colorSpace: "srgb", willReadFrequently: true });
  if (!ctx) throw new ImageInputError("this browser cannot read pixels back from a canvas");
  ctx.drawImage(source, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    data[j] = rgba[i]!;
    data[j + 1] = rgba[i + 1]!;
    data[j + 2] = rgba[i + 2]!;
  }
  return { width, height, data };
}

/**
 * A PNG/JPEG/WebP/... file as RGB, decoded by the browser: EXIF orientation applied (as the CLI does), no colour
 * management (the model was trained on the files' raw values).
 */
export async function decodeImageFile(blob: Blob, name: string): Promise<RgbImage> {
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(blob, {
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
      imageOrientation: "from-image",
    });
  } catch {
    throw new ImageInputError(`${name}: not an image this browser can decode (use PNG, JPEG or WebP)`);
  }
  try {
    return rgbFrom(bmp, bmp.width, bmp.height);
  } finally {
    bmp.close();
  }
}

/** The current webcam frame. */
export function snapshot(video: HTMLVideoElement): RgbImage {
  if (!video.videoWidth) throw new ImageInputError("the camera has not delivered a frame yet");
  return rgbFrom(video, video.videoWidth, video.videoHeight);
}
