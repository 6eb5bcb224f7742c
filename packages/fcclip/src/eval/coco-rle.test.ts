import { describe, expect, test } from "vitest";
import { decodeRle, rleColumnMajor } from "../postprocess/rle.js";
import { countsFromString, countsToString, rleArea, rleCounts, rleIntersection, rlesFromLabelMap } from "./coco-rle.js";

describe("COCO RLE", () => {
  test("compressed strings round-trip, including counts above 2^31 and negative deltas", () => {
    const cases = [[0], [5], [3, 4, 2, 9, 1], [100, 1, 50, 3000, 7, 0, 2 ** 31 + 5, 3], [0, 1, 2, 1, 0]];
    for (const c of cases) expect(countsFromString(countsToString(c))).toEqual(c);
  });

  test("decodes pycocotools' string of a known mask", () => {
    // pycocotools.mask.encode of a 4×3 mask with column 1 fully set: counts [4, 4, 4] -> "444".
    expect(countsToString([4, 4, 4])).toBe("444");
    // From the fourth count on, counts are stored relative to the count two before: [2, 3, 10, 1] stores 2, 3, 10
    // (':' = 48 + 10) and 1 − 3 = −2 (5 bits 11110 with the sign bit set: 'N' = 48 + 30).
    expect(countsToString([2, 3, 10, 1])).toBe("23:N");
    expect(countsFromString("23:N")).toEqual([2, 3, 10, 1]);
    expect(() => countsFromString("2{")).toThrow(/outside/);
    expect(() => rleCounts({ size: [2, 2], counts: [1, 2] })).toThrow(/cover 3 pixels/);
  });

  test("area, intersection and label maps agree with the decoded masks", () => {
    const H = 7;
    const W = 5;
    const labels = Array.from({ length: H * W }, (_, i) => ((i * 7) % 11) % 4);
    const rles = rlesFromLabelMap(labels, H, W, [0, 1, 2, 3, 9]);
    for (const id of [0, 1, 2, 3]) {
      const expected = rleColumnMajor((y, x) => labels[y * W + x] === id, H, W);
      expect(rles.get(id)).toEqual(expected);
      expect(rleArea(expected)).toBe(labels.filter((l) => l === id).length);
    }
    expect(rles.get(9)).toEqual([H * W]);
    const a = rles.get(1)!;
    const b = rleColumnMajor((y, x) => (x + y) % 3 !== 0, H, W);
    const da = decodeRle({ size: [H, W], counts: a });
    const db = decodeRle({ size: [H, W], counts: b });
    expect(rleIntersection(a, b)).toBe(da.filter((v, i) => v && db[i]).length);
    expect(rleIntersection([0, H * W], [H * W])).toBe(0);
    expect(rleIntersection([0, H * W], [0, H * W])).toBe(H * W);
  });
});
