import { describe, expect, test } from "vitest";
import { decodeRle } from "../postprocess/rle.js";
import { polygonCounts, polygonsCounts, unionCounts } from "./coco-polygon.js";
import { rleArea } from "./coco-rle.js";

describe("COCO polygons", () => {
  test("an integer box covers exactly its w×h pixels (pycocotools' frBbox: x0 ≤ x < x1)", () => {
    const counts = polygonCounts([2, 1, 2, 4, 6, 4, 6, 1], 6, 8);
    const m = decodeRle({ size: [6, 8], counts });
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 8; x++) expect(m[y * 8 + x], `${x},${y}`).toBe(x >= 2 && x < 6 && y >= 1 && y < 4 ? 1 : 0);
  });

  test("a diagonal edge ends each column where pycocotools samples it", () => {
    // Triangle (0,0) (10,0) (0,10). pycocotools samples column x of the 5× upsampled hypotenuse v = 50 − u between
    // u = 5x+3 and 5x+2, takes the smaller v = 47 − 5x and ends the column at ceil((v + .5)/5 − .5) = 9 − x: rows
    // 0..8−x, 45 pixels in all (not the 50 of the geometric area).
    const counts = polygonCounts([0, 0, 10, 0, 0, 10], 12, 12);
    const m = decodeRle({ size: [12, 12], counts });
    for (let x = 0; x < 12; x++) {
      let rows = 0;
      for (let y = 0; y < 12; y++) rows += m[y * 12 + x]!;
      expect(rows, `column ${x}`).toBe(Math.max(0, 9 - x));
    }
    expect(rleArea(counts)).toBe(45);
    expect(polygonCounts([0, 0, 0, 10, 10, 0], 12, 12)).toEqual(counts);
  });

  test("an object's polygons are united; overlaps count once", () => {
    const a = polygonCounts([0, 0, 4, 0, 4, 4, 0, 4], 8, 8);
    const b = polygonCounts([2, 2, 6, 2, 6, 6, 2, 6], 8, 8);
    expect(
      rleArea(
        polygonsCounts(
          [
            [0, 0, 4, 0, 4, 4, 0, 4],
            [2, 2, 6, 2, 6, 6, 2, 6],
          ],
          8,
          8,
        ),
      ),
    ).toBe(16 + 16 - 4);
    expect(unionCounts([a])).toEqual(a);
    expect(unionCounts([a, b]).reduce((s, c) => s + c, 0)).toBe(64);
  });
});
