import { describe, expect, test } from "vitest";
import { COMMAND_HELP, run } from "./main.js";

async function call(argv: string[]) {
  const lines: string[] = [];
  let out = "";
  const code = await run(
    argv,
    (s) => lines.push(s),
    (s) => {
      out += s;
    },
  );
  return { code, lines, out };
}

describe("fcclip CLI", () => {
  test("<command> --help prints that command's help and exits 0", async () => {
    for (const command of Object.keys(COMMAND_HELP)) {
      for (const flag of ["--help", "-h"]) {
        const r = await call([command, "--vocab", "x", flag]);
        expect(r.code, `${command} ${flag}`).toBe(0);
        expect(r.out).toContain(`usage: fcclip ${command} [options]`);
        expect(r.out).toContain(COMMAND_HELP[command]!);
        for (const other of Object.keys(COMMAND_HELP))
          if (other !== command) expect(r.out).not.toContain(COMMAND_HELP[other]!);
      }
    }
    expect((await call(["segment", "--help"])).out).toMatch(/--confidence-threshold/);
    expect((await call(["eval", "--help"])).out).toMatch(/--shard I\/N/);
    const all = await call(["--help"]);
    expect(all.code).toBe(0);
    for (const h of Object.values(COMMAND_HELP)) expect(all.out).toContain(h);
  });

  test("eval usage mistakes are one line with exit code 2", async () => {
    const cases: [string[], RegExp][] = [
      [["eval", "--format", "coco-panoptic", "--output", "o", "--shard", "2/2"], /--shard must be I\/N with 0 ≤ I < N/],
      [["eval", "--format", "coco-panoptic", "--output", "o", "--shard", "x"], /--shard must be I\/N/],
      [["eval", "--format", "panoptic", "--output", "o"], /--format must be coco-panoptic, semantic, coco-instances/],
      [["eval", "--output", "o"], /eval needs --format/],
      [["eval", "--merge"], /--merge needs at least one value/],
      [["eval", "--format", "semantic", "--frobnicate"], /unknown option --frobnicate/],
    ];
    for (const [argv, message] of cases) {
      const r = await call(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.lines.at(-1)).toMatch(message);
    }
  });
});
