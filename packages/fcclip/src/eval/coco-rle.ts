import { FcclipError } from "../errors.js";
import type { Rle } from "../postprocess/rle.js";

/** COCO's compressed RLE (`pycocotools.mask.encode`): the counts as pycocotools' 6-bit LEB128-like string. */
export interface CompressedRle {
  size: [number, number];
  counts: string;
}

/** A segmentation in either COCO RLE form. */
export type AnyRle = Rle | CompressedRle;

/** A mask given as COCO RLE that cannot be decoded. */
export class RleFormatError extends FcclipError {
  override name = "RleFormatError";
}

/**
 * Decodes pycocotools' `rleFrString`: 5 bits per character (offset 48), 0x20 = more characters follow, the last
 * character's 0x10 bit is the sign, and from the third count on each value is stored relative to the count two
 * before it. Arithmetic instead of bit operations keeps counts above 2^31 exact.
 */
export function countsFromString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new RleFormatError(`compressed RLE counts end inside a number: '${s}'`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new RleFormatError(`compressed RLE counts hold a character outside '0'..'o': '${s}'`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    counts.push(x);
  }
  return counts;
}

/** pycocotools' `rleToString`, the inverse of {@link countsFromString}. */
export function countsToString(counts: readonly number[]): string {
  let s = "";
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]! - (i > 2 ? counts[i - 2]! : 0);
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32);
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** Uncompressed counts of either RLE form, checked to cover the mask exactly. */
export function rleCounts(rle: AnyRle): number[] {
  const counts = typeof rle.counts === "string" ? countsFromString(rle.counts) : rle.counts;
  const [h, w] = rle.size;
  let total = 0;
  for (const c of counts) total += c;
  if (total !== h * w) throw new RleFormatError(`RLE counts cover ${total} pixels but its size ${h}×${w} has ${h * w}`);
  return counts;
}

/** Pixels inside the mask (the odd runs). */
export function rleArea(counts: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < counts.length; i += 2) a += counts[i]!;
  return a;
}

/** Pixels inside both masks, walking the two run lists together (pycocotools' `rleIou` loop). */
export function rleIntersection(a: readonly number[], b: readonly number[]): number {
  let ia = 0;
  let ib = 0;
  let ra = a[0] ?? 0;
  let rb = b[0] ?? 0;
  let inter = 0;
  while (ia < a.length && ib < b.length) {
    const step = Math.min(ra, rb);
    if (ia % 2 === 1 && ib % 2 === 1) inter += step;
    ra -= step;
    rb -= step;
    if (ra === 0) ra = a[++ia] ?? 0;
    if (rb === 0) rb = b[++ib] ?? 0;
  }
  return inter;
}

/**
 * The COCO RLE of every listed segment id of a row-major label map in one column-major pass (linear in pixels,
 * whatever the number of segments).
 */
export function rlesFromLabelMap(
  labels: ArrayLike<number>,
  height: number,
  width: number,
  ids: Iterable<number>,
): Map<number, number[]> {
  const runs = new Map<number, { counts: number[]; end: number }>();
  for (const id of ids) runs.set(id, { counts: [], end: 0 });
  let prev = Number.NaN;
  let cur: { counts: number[]; end: number } | undefined;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const id = labels[y * width + x]!;
      if (id !== prev) {
        prev = id;
        cur = runs.get(id);
      }
      if (!cur) continue;
      const p = x * height + y;
      if (cur.end === p && cur.counts.length > 0) cur.counts[cur.counts.length - 1]!++;
      else cur.counts.push(p - cur.end, 1);
      cur.end = p + 1;
    }
  }
  const out = new Map<number, number[]>();
  for (const [id, r] of runs) {
    if (r.counts.length === 0) out.set(id, [height * width]);
    else {
      if (r.end < height * width) r.counts.push(height * width - r.end);
      out.set(id, r.counts);
    }
  }
  return out;
}
