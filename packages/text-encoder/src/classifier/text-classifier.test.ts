import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { TextEncoderError } from "../errors.js";
import { ClipTokenizer } from "../tokenizer/bpe.js";
import { ClipTextEncoder } from "../transformer/text-encoder.js";
import { buildTextClassifier } from "./text-classifier.js";

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
