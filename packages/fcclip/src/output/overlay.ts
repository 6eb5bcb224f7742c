import type { RgbImage } from "@fcclip/clip";
import { GLYPH_HEIGHT, GLYPHS } from "./font-data.js";

/** A distinct, stable colour per class index (golden-ratio hue steps). */
export function classColor(c: number): [number, number, number] {
  const h = (c * 0.618033988749895) % 1;
  const s = 0.65;
  const v = 0.95;
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const [p, q, t] = [v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)];
  const rgb = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i % 6]!;
  return rgb.map((x) => Math.round(x * 255)) as [number, number, number];
}

function textWidth(s: string): number {
  return [...s].reduce((w, ch) => w + (GLYPHS[ch.charCodeAt(0)]?.[0] ?? GLYPHS[63]![0]), 0);
}

function drawText(img: RgbImage, s: string, x0: number, y0: number, color: [number, number, number]): void {
  let x = x0;
  for (const ch of s) {
    const [w, rows] = GLYPHS[ch.charCodeAt(0)] ?? GLYPHS[63]!;
    rows.forEach((bits, dy) => {
      for (let dx = 0; dx < w; dx++) {
        const px = x + dx;
        const py = y0 + dy;
        if (bits & (1 << dx) && px >= 0 && px < img.width && py >= 0 && py < img.height)
          img.data.set(color, (py * img.width + px) * 3);
      }
    });
    x += w;
  }
}

export interface LegendEntry {
  label: string;
  color: [number, number, number];
}

/**
 * The picture a person wants: the image with each region tinted in its colour (alpha 0.5), region borders, and a
 * legend (swatch + label) to the right. regions: a region index per pixel (−1 = none); colors per region index.
 */
export function renderOverlay(
  img: RgbImage,
  regions: Int32Array,
  colors: (i: number) => [number, number, number],
  legend: LegendEntry[],
): RgbImage {
  const line = GLYPH_HEIGHT + 4;
  const legendWidth = legend.length ? Math.min(360, 28 + Math.max(...legend.map((l) => textWidth(l.label)))) : 0;
  const W = img.width + legendWidth;
  const H = Math.max(img.height, legend.length * line + 8);
  const out: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(255) };
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = y * img.width + x;
      const r = regions[i]!;
      const src = img.data.subarray(i * 3, i * 3 + 3);
      const o = (y * W + x) * 3;
      if (r < 0) {
        out.data.set(src, o);
        continue;
      }
      const border =
        (x > 0 && regions[i - 1] !== r) ||
        (y > 0 && regions[i - img.width] !== r) ||
        (x + 1 < img.width && regions[i + 1] !== r) ||
        (y + 1 < img.height && regions[i + img.width] !== r);
      const c = colors(r);
      for (let k = 0; k < 3; k++)
        out.data[o + k] = border ? Math.round(c[k]! * 0.5) : Math.round(src[k]! * 0.5 + c[k]! * 0.5);
    }
  }
  legend.forEach((entry, j) => {
    const y = 4 + j * line;
    for (let dy = 2; dy < GLYPH_HEIGHT; dy++)
      for (let dx = 0; dx < 16; dx++) out.data.set(entry.color, ((y + dy) * W + img.width + 6 + dx) * 3);
    drawText(out, entry.label, img.width + 26, y + 1, [0, 0, 0]);
  });
  return out;
}
