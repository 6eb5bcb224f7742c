/** COCO uncompressed RLE: column-major run lengths of a binary mask, the first run counting zeros. */
export interface Rle {
  size: [number, number];
  counts: number[];
}

/** Run lengths of a column-major binary mask, COCO style (first run counts zeros). */
export function rleColumnMajor(get: (y: number, x: number) => boolean, H: number, W: number): number[] {
  const counts: number[] = [];
  let cur = false;
  let run = 0;
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; y++) {
      const v = get(y, x);
      if (v !== cur) {
        counts.push(run);
        run = 0;
        cur = v;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/** An RLE back to 0/1 per pixel, row-major (what a viewer draws). */
export function decodeRle(rle: Rle): Uint8Array {
  const [h, w] = rle.size;
  const out = new Uint8Array(h * w);
  let p = 0;
  rle.counts.forEach((n, i) => {
    if (i % 2 === 1) for (let k = p; k < p + n; k++) out[(k % h) * w + Math.floor(k / h)] = 1;
    p += n;
  });
  if (p !== h * w) throw new RangeError(`RLE counts cover ${p} pixels, the size ${h}×${w} has ${h * w}`);
  return out;
}
