import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, SafetensorsFile } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { ClipTokenizer, EOT, SOT, TokenizerError } from "./bpe.js";

const VOCAB = join(SHARED, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz");

describe.skipIf(!HAS_SHARED)(
  `CLIP BPE tokenizer (${HAS_SHARED ? "vocabulary from ../shared" : NO_SHARED})`,
  async () => {
    const tok = HAS_SHARED ? await ClipTokenizer.fromGzip(readFileSync(VOCAB)) : null!;
    const ids = (s: string) => Array.from(tok.tokenize([s])).filter((v) => v !== 0);

    test("the spec's test vectors (open_clip v2.20.0)", () => {
      expect(ids("a photo of a wall.")).toEqual([49406, 320, 1125, 539, 320, 2569, 269, 49407]);
      expect(ids("There is a traffic light in the scene")).toEqual([
        49406, 997, 533, 320, 3399, 1395, 530, 518, 3562, 49407,
      ]);
      expect(ids("This is a photo of a medium t-shirt.")).toEqual([
        49406, 589, 533, 320, 1125, 539, 320, 8675, 339, 268, 2523, 269, 49407,
      ]);
    });

    test("cleaning: case, whitespace and HTML entities do not change the ids", () => {
      expect(ids("  A   PHOTO\tof a\nwall. ")).toEqual(ids("a photo of a wall."));
      expect(ids("cats &amp; dogs")).toEqual(ids("cats & dogs"));
      expect(ids("cats &amp;amp; dogs")).toEqual(ids("cats & dogs"));
      expect(ids("caf&#233;")).toEqual(ids("café"));
      expect(ids("cafe\u0301")).toEqual(ids("café"));
    });

    test("unicode, digits, punctuation and special tokens", () => {
      const t = ids("日本 42 <end_of_text> it's");
      expect(t[0]).toBe(SOT);
      expect(t.filter((v) => v === EOT)).toHaveLength(2);
      expect(ids("42")).toEqual([SOT, ...tok.encode("4"), ...tok.encode("2"), EOT]);
      expect(tok.encode("it's")).toEqual([...tok.encode("it"), ...tok.encode("'s")]);
      expect(tok.encode("😀").length).toBeGreaterThan(0);
    });

    test("long inputs keep 77 tokens and end with the end token", () => {
      const row = tok.tokenize(["word ".repeat(200)]);
      expect(row.length).toBe(77);
      expect(row[76]).toBe(EOT);
      expect(row[0]).toBe(SOT);
    });

    test("all 3,556 COCO prompts tokenise exactly as the oracle's open_clip did", async () => {
      const vocab = JSON.parse(readFileSync(join(SHARED, "oracle", "tiny", "vocab", "coco_panoptic.json"), "utf8")) as {
        prompts: string[];
      };
      const st = await SafetensorsFile.open(
        bytesSource(readFileSync(join(SHARED, "oracle", "tiny", "vocab", "coco_panoptic.tensors.safetensors"))),
      );
      const want = new Int32Array((await st.read("text.tokens")).bytes.slice().buffer);
      expect(Array.from(tok.tokenize(vocab.prompts))).toEqual(Array.from(want));
    });

    test("a file that is not the vocabulary is a TokenizerError", async () => {
      await expect(ClipTokenizer.fromGzip(new Uint8Array([1, 2, 3]))).rejects.toThrow(TokenizerError);
      expect(() => new ClipTokenizer("header\na b\n")).toThrow(/merge lines/);
    });
  },
);
