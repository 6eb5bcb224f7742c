import { describe, expect, test } from "vitest";
import { formatDuration, progressBar } from "./progress.js";

describe("progress bar", () => {
  test("the ETA extrapolates the rate since the first update", () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    let t = 0;
    const bar = progressBar("evaluating", stream, () => t);
    bar.update(10, 110); // resumed at 10: no rate yet
    t = 20_000;
    bar.update(30, 110); // 1 s per image, 80 left
    t = 110_000;
    bar.update(110, 110);
    expect(lines).toEqual([
      "evaluating: 9% (10/110)\n",
      "evaluating: 27% (30/110) ETA 1m20s\n",
      "evaluating: 100% (110/110)\n",
    ]);
  });

  test("durations", () => {
    expect(formatDuration(12_400)).toBe("12s");
    expect(formatDuration(187_000)).toBe("3m07s");
    expect(formatDuration(3_720_000)).toBe("1h02m");
  });
});
