import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { mergeVocabularies, parseInlineVocabulary, seenMask, VocabularyError } from "./vocabulary.js";
import { loadVocabulary } from "./vocabulary-files.js";

const DATA = join(SHARED, "data");

test("inline vocabularies: classes, synonyms, stuff marker, errors", () => {
  const v = parseInlineVocabulary("cat, kitty;sofa,couch ; stuff:sky,clouds");
  expect(v.classes).toEqual([
    { name: "cat", synonyms: ["cat", "kitty"], isThing: true },
    { name: "sofa", synonyms: ["sofa", "couch"], isThing: true },
    { name: "sky", synonyms: ["sky", "clouds"], isThing: false },
  ]);
  expect(() => parseInlineVocabulary(" ; ")).toThrow(VocabularyError);
  expect(() => parseInlineVocabulary("cat;stuff:")).toThrow(/no name/);
});

describe.skipIf(!HAS_SHARED)(`official vocabularies (${HAS_SHARED ? "../shared/data" : NO_SHARED})`, () => {
  test("COCO panoptic preset equals the oracle's class list (names, synonyms, thing flags)", async () => {
    const v = await loadVocabulary("coco_panoptic", DATA);
    const oracle = JSON.parse(readFileSync(join(SHARED, "oracle", "tiny", "vocab", "coco_panoptic.json"), "utf8")) as {
      classes: { synonyms: string[]; isthing: boolean; seen_in_train: boolean }[];
    };
    expect(v.classes.map((c) => c.synonyms)).toEqual(oracle.classes.map((c) => c.synonyms));
    expect(v.classes.map((c) => c.isThing)).toEqual(oracle.classes.map((c) => c.isthing));
    const train = new Set(v.classes.flatMap((c) => c.synonyms));
    expect(Array.from(seenMask(v, train))).toEqual(oracle.classes.map((c) => (c.seen_in_train ? 1 : 0)));
  });

  test("ADE20K-150: 150 classes, 100 things, 64 seen in COCO (the spec's counts)", async () => {
    const ade = await loadVocabulary("ade20k_150", DATA);
    const coco = await loadVocabulary("coco_panoptic", DATA);
    expect(ade.classes).toHaveLength(150);
    expect(ade.classes.filter((c) => c.isThing)).toHaveLength(100);
    const seen = seenMask(ade, new Set(coco.classes.flatMap((c) => c.synonyms)));
    expect(seen.reduce((a, b) => a + b, 0)).toBe(64);
    expect(ade.classes.reduce((s, c) => s + c.synonyms.length, 0)).toBe(403);
  });

  test("a missing preset file names the path", async () => {
    await expect(loadVocabulary("coco_panoptic", "/nonexistent")).rejects.toThrow(/nonexistent.*no such file/);
  });
});

test("merging vocabularies keeps the first whole and adds the second's classes it does not name", () => {
  const a = parseInlineVocabulary("cat,kitty;stuff:sky");
  const b = parseInlineVocabulary("kitty;dog;stuff:grass;stuff:sky,heaven");
  const m = mergeVocabularies("a+b", a, b);
  expect(m.name).toBe("a+b");
  expect(m.classes.map((c) => [c.name, c.isThing])).toEqual([
    ["cat", true],
    ["sky", false],
    ["dog", true],
    ["grass", false],
  ]);
});
