/**
 * COCO polygon annotations as RLE, rasterised exactly like pycocotools (`rleFrPoly`, then `merge` of an object's
 * polygons): COCO's own instance ground truth (instances_val2017.json) is polygons, and a different rasteriser
 * would move mask AP.
 */

const trunc = Math.trunc;

/** One polygon `[x0, y0, x1, y1, …]` in pixel coordinates → column-major RLE counts of an h×w mask. */
export function polygonCounts(xy: readonly number[], h: number, w: number): number[] {
  // Upsample 5× and walk the boundary densely, as pycocotools does, so that vertex rounding matches.
  const scale = 5;
  const k = Math.floor(xy.length / 2);
  const x: number[] = [];
  const y: number[] = [];
  for (let j = 0; j < k; j++) {
    x.push(trunc(scale * xy[2 * j]! + 0.5));
    y.push(trunc(scale * xy[2 * j + 1]! + 0.5));
  }
  x.push(x[0]!);
  y.push(y[0]!);
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j]!;
    let xe = x[j + 1]!;
    let ys = y[j]!;
    let ye = y[j + 1]!;
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(trunc(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(trunc(xs + s * t + 0.5));
      }
    }
  }
  // Keep the points where the boundary crosses a pixel column, downsampled back to pixel coordinates.
  const starts: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = Math.min(v[j]!, v[j - 1]!);
    yd = (yd + 0.5) / scale - 0.5;
    yd = Math.ceil(Math.min(Math.max(yd, 0), h));
    starts.push(xd * h + yd);
  }
  starts.push(h * w);
  starts.sort((a, b) => a - b);
  let prev = 0;
  const a = starts.map((t) => {
    const d = t - prev;
    prev = t;
    return d;
  });
  // Zero-length runs fold into their neighbours.
  const counts = [a[0]!];
  for (let j = 1; j < a.length; ) {
    if (a[j]! > 0) counts.push(a[j++]!);
    else {
      j++;
      if (j < a.length) counts[counts.length - 1]! += a[j++]!;
    }
  }
  return counts;
}

/** The union of masks of the same size (pycocotools' `merge` with intersect=False). */
export function unionCounts(masks: readonly (readonly number[])[]): number[] {
  if (masks.length === 0) throw new RangeError("unionCounts needs at least one mask");
  let acc = [...masks[0]!];
  for (let i = 1; i < masks.length; i++) acc = unionPair(acc, masks[i]!);
  return acc;
}

function unionPair(A: readonly number[], B: readonly number[]): number[] {
  const out: number[] = [];
  let ca = A[0]!;
  let cb = B[0]!;
  let a = 1;
  let b = 1;
  let va = false;
  let vb = false;
  let v = false;
  let cc = 0;
  let ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb);
    cc += c;
    ct = 0;
    ca -= c;
    if (!ca && a < A.length) {
      ca = A[a++]!;
      va = !va;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < B.length) {
      cb = B[b++]!;
      vb = !vb;
    }
    ct += cb;
    const vp: boolean = v;
    v = va || vb;
    if (v !== vp || ct === 0) {
      out.push(cc);
      cc = 0;
    }
  }
  return out;
}

/** An object's polygons (`segmentation: [[x, y, …], …]`) as one RLE, like pycocotools' `annToRLE`. */
export function polygonsCounts(polygons: readonly (readonly number[])[], h: number, w: number): number[] {
  return unionCounts(polygons.map((p) => polygonCounts(p, h, w)));
}
