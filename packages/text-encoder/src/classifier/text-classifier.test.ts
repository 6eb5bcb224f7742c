import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { TextEncoderError } from "../errors.js";
import { ClipTokenizer } from "../tokenizer/bpe.js";
import { ClipTextEncoder } from "../transformer/text-encoder.js";
import { buildTextClassifier, type PromptTokenizer } from "./text-classifier.js";

const TINY = join(SHARED, "oracle", "tiny");

describe.skipIf(!HAS_SHARED)(`FC-CLIP text classifier (${HAS_SHARED ? "oracle found" : NO_SHARED})`, async () => {
  const e = await testEngine();

  test("COCO panoptic: per-synonym template-averaged unit vectors equal text.classifier (void row excluded)", async () => {
    const weights = await openStateDict(bytesSource(readFileSync(join(TINY, "model", "open_clip_tiny.safetensors"))));
    const enc = await ClipTextEncoder.load(e, weights, "", { width: 16, layers: 2, heads: 4 });
    const tok = await ClipTokenizer.fromGzip(
      readFileSync(join(SHARED, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz")),
    );
    const vocab = JSON.parse(readFileSync(join(TINY, "vocab", "coco_panoptic.json"), "utf8")) as {
      classes: { synonyms: string[] }[];
      num_templates: number[];
    };
    const classes = vocab.classes.map((c) => c.synonyms);
    const progress: number[] = [];
    const clf = await buildTextClassifier(enc, tok, classes, { onProgress: (d) => progress.push(d) });
    expect(clf.synonymsPerClass).toEqual(vocab.num_templates);
    expect(progress.at(-1)).toBe(3556);
    const st = await SafetensorsFile.open(
      bytesSource(readFileSync(join(TINY, "vocab", "coco_panoptic.tensors.safetensors"))),
    );
    const want = toFloat32(await st.read("text.classifier"));
    expect(clf.rows).toBe(254);
    expectClose(clf.embeddings, want.subarray(0, clf.rows * clf.dim), 1e-4, "classifier");
    await expect(buildTextClassifier(enc, tok, [["cat"], []])).rejects.toThrow(TextEncoderError);
    enc.dispose();
  });
});

/**
 * The fixture's token ids for its prompts. CLIP's BPE would need the 49,408-row token embedding, so the fixture's tower
 * has a 400-token toy vocabulary; buildTextClassifier only asks the tokenizer for ids.
 */
function fixtureTokenizer(prompts: readonly string[], ids: Int32Array): PromptTokenizer {
  const row = new Map(prompts.map((p, i) => [p, ids.subarray(i * 77, (i + 1) * 77)]));
  const tokenize = (texts: readonly string[]) => {
    const out = new Int32Array(texts.length * 77);
    texts.forEach((t, i) => {
      const r = row.get(t);
      if (!r) throw new Error(`prompt '${t}' is not in the fixture`);
      out.set(r, i * 77);
    });
    return out;
  };
  return { tokenize };
}

// A seeded text tower and the classifier PyTorch builds with it: fixtures/generate_text.py.
describe("FC-CLIP text classifier vs the PyTorch reference", async () => {
  const e = await testEngine();
  const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");
  const meta = JSON.parse(readFileSync(join(FIXTURES, "text_tower.json"), "utf8")) as {
    classes: string[][];
    prompts: string[];
  };
  const weights = await openStateDict(bytesSource(readFileSync(join(FIXTURES, "text_tower.safetensors"))));
  const ids = new Int32Array((await weights.read("ref.classifier.tokens")).bytes.slice().buffer);

  test("14 templates × 7 synonyms of 4 classes, in batches of 16: one unit row per synonym", async () => {
    const enc = await ClipTextEncoder.load(e, weights, "", { width: 20, layers: 3, heads: 4 });
    const progress: number[] = [];
    const clf = await buildTextClassifier(enc, fixtureTokenizer(meta.prompts, ids), meta.classes, {
      batchSize: 16,
      onProgress: (d) => progress.push(d),
    });
    expect(clf.synonymsPerClass).toEqual([1, 2, 1, 3]);
    expect([clf.rows, clf.dim]).toEqual([7, 23]);
    expect(progress).toEqual([16, 32, 48, 64, 80, 96, 98]);
    expectClose(clf.embeddings, toFloat32(await weights.read("ref.classifier.embeddings")), 1e-5, "classifier");
    enc.dispose();
  });
});
