import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { run } from "./main.js";

const M = join(SHARED, "oracle", "tiny", "model");
const BPE = join(SHARED, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz");
const CHELSEA = join(SHARED, "oracle", "tiny", "images", "chelsea.png");

describe.skipIf(!HAS_SHARED)(`fcclip classify (${HAS_SHARED ? "oracle CLIP" : NO_SHARED})`, () => {
  const args = [
    "classify",
    "--clip-weights",
    join(M, "open_clip_tiny.bin"),
    "--clip-config",
    join(M, "convnext_oracle_tiny_clip.json"),
  ];

  test("prints a probability per label, sorted, for open_clip weights and for FC-CLIP weights alike", async () => {
    const outputs: string[] = [];
    for (const weights of [join(M, "open_clip_tiny.bin"), join(M, "fcclip_tiny.safetensors")]) {
      let out = "";
      const a = [...args];
      a[2] = weights;
      const code = await run(
        [...a, "--bpe", BPE, "--labels", "cat, dog,sofa", "--json", CHELSEA],
        () => {},
        (s) => {
          out += s;
        },
      );
      expect(code).toBe(0);
      const [r] = JSON.parse(out) as { image: string; results: { label: string; score: number }[] }[];
      expect(r!.results.map((x) => x.label).sort()).toEqual(["cat", "dog", "sofa"]);
      expect(r!.results.reduce((s, x) => s + x.score, 0)).toBeCloseTo(1, 5);
      expect(r!.results[0]!.score).toBeGreaterThanOrEqual(r!.results[2]!.score);
      outputs.push(out);
    }
    // The same CLIP inside FC-CLIP's weights gives the same answer.
    expect(outputs[1]).toBe(outputs[0]);
  });

  test("bad inputs: one line, non-zero exit", async () => {
    const lines: string[] = [];
    const log = (s: string) => lines.push(s);
    expect(await run([...args, "--bpe", join(M, "nope.gz"), "--labels", "a", CHELSEA], log)).toBe(2);
    expect(await run([...args, "--bpe", BPE, "--labels", " , ", CHELSEA], log)).toBe(2);
    expect(await run([...args, "--bpe", BPE, "--labels", "a", join(M, "weights.json")], log)).toBe(1);
    expect(await run([...args, "--bpe", BPE, "--labels", "a"], log)).toBe(2);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/cannot read the BPE vocabulary .*nope\.gz: no such file/);
    expect(lines[2]).toMatch(/weights\.json: not a PNG or JPEG/);
  });
});
