import { PNG } from "pngjs";
import { FcclipError } from "../errors.js";

/** A ground-truth or prediction PNG that does not hold labels we can read. */
export class LabelPngError extends FcclipError {
  override name = "LabelPngError";
}

export interface LabelMap {
  width: number;
  height: number;
  /** Row-major labels: the gray value (8 or 16 bit), or R + 256·G + 256²·B for RGB (COCO panoptic ids). */
  labels: Uint32Array;
}

/**
 * Labels of a PNG as datasets store them: grayscale class maps (8-bit, or 16-bit when there are more than 255
 * classes) and RGB panoptic id maps. Palette PNGs are refused: their indices cannot be told from colours here.
 */
export function decodeLabelPng(bytes: Uint8Array, name: string): LabelMap {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (e) {
    throw new LabelPngError(`${name}: not a readable PNG (${(e as Error).message})`);
  }
  const { width, height, data } = png;
  const colorType = (png as unknown as { colorType: number }).colorType;
  if (colorType === 3)
    throw new LabelPngError(`${name}: a palette PNG; save label maps as grayscale (mode "L" or "I;16") or RGB ids`);
  const rgb = colorType === 2 || colorType === 6;
  const labels = new Uint32Array(width * height);
  for (let i = 0; i < labels.length; i++) {
    const r = data[i * 4]!;
    labels[i] = rgb ? r + 256 * data[i * 4 + 1]! + 65536 * data[i * 4 + 2]! : r;
  }
  return { width, height, labels };
}
