// `fcclip eval` end to end with the oracle's tiny model on a tiny synthetic COCO-panoptic dataset whose ground truth
// is the official panoptic output (so PQ is known), plus a damaged image, --resume, --predictions, --shard, --merge.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { countsToString, rlesFromLabelMap } from "../eval/coco-rle.js";
import { encodePng } from "../output/png.js";
import { CHELSEA, TINY, TINY_SEGMENT_ARGS } from "../testing/oracle-tiny.js";
import { parseInlineVocabulary, parsePromptEng } from "../vocabulary/vocabulary.js";
import { vocabularyToDataset } from "./eval.js";
import { run } from "./main.js";

const RUN = join(TINY, "runs", "chelsea", "coco_panoptic");
const VOCAB = join(SHARED, "data", "vocab");

interface Seg {
  id: number;
  category_id: number;
  isthing: boolean;
  area: number;
}

/**
 * images/{a,b,bad}.png, panoptic/{a,b,bad}.png and panoptic.json (the generic coco-panoptic layout), and
 * instances.json: the same objects as COCO instances (compressed RLE strings, thing categories only).
 */
async function makeDataset(dir: string) {
  const meta = JSON.parse(readFileSync(join(VOCAB, "meta", "coco_panoptic.json"), "utf8"));
  const things = new Set(Object.values(meta.thing_dataset_id_to_contiguous_id as Record<string, number>));
  const classes = parsePromptEng(readFileSync(join(VOCAB, "coco_panoptic_with_prompt_eng.txt"), "utf8"));
  const categories = classes.map((c, k) => ({ id: c.id, name: c.synonyms[0], isthing: things.has(k) ? 1 : 0 }));
  const png = readFileSync(join(RUN, "panoptic_seg.png"));
  const official = JSON.parse(readFileSync(join(RUN, "segments_info.json"), "utf8")).segments_info as Seg[];
  // The official ids: a 451×300 grayscale PNG (one byte per id here).
  const { PNG } = await import("pngjs");
  const decoded = PNG.sync.read(png);
  const ids = Array.from({ length: 451 * 300 }, (_, i) => decoded.data[i * 4]!);
  mkdirSync(join(dir, "images"), { recursive: true });
  mkdirSync(join(dir, "panoptic"));
  const rgb = (map: number[]) =>
    encodePng(451, 300, 3, Uint8Array.from(map.flatMap((id) => [id & 255, (id >> 8) & 255, id >> 16])));
  // a: the official output itself. b: segment 1 becomes VOID and segment 2 a crowd region; predictions on them are
  // then ignored rather than false positives, so PQ stays 100 (panopticapi's rules).
  const idsB = ids.map((id) => (id === 1 ? 0 : id));
  const segs = (list: Seg[]) =>
    list.map((s) => ({ id: s.id, category_id: classes[s.category_id]!.id, iscrowd: 0, area: s.area }));
  const segsB = segs(official.filter((s) => s.id !== 1)).map((s) => (s.id === 2 ? { ...s, iscrowd: 1 } : s));
  writeFileSync(join(dir, "panoptic", "a.png"), await rgb(ids));
  writeFileSync(join(dir, "panoptic", "b.png"), await rgb(idsB));
  writeFileSync(join(dir, "panoptic", "bad.png"), await rgb(ids));
  copyFileSync(CHELSEA, join(dir, "images", "a.png"));
  copyFileSync(CHELSEA, join(dir, "images", "b.png"));
  writeFileSync(join(dir, "images", "bad.png"), "not an image");
  const image = (id: number, name: string) => ({ id, file_name: name, height: 300, width: 451 });
  const objects = (map: number[], list: ReturnType<typeof segs>, imageId: number) => {
    const thingSegs = list.filter((x) => things.has(classes.findIndex((c) => c.id === x.category_id)));
    const rles = rlesFromLabelMap(
      map,
      300,
      451,
      thingSegs.map((x) => x.id),
    );
    return thingSegs.map((x) => ({
      id: imageId * 1000 + x.id,
      image_id: imageId,
      category_id: x.category_id,
      iscrowd: x.iscrowd,
      area: x.area,
      segmentation: { size: [300, 451], counts: countsToString(rles.get(x.id)!) },
    }));
  };
  writeFileSync(
    join(dir, "instances.json"),
    JSON.stringify({
      images: [image(1, "a.png"), image(2, "b.png"), image(3, "bad.png")],
      annotations: [...objects(ids, segs(official), 1), ...objects(idsB, segsB, 2), ...objects(ids, segs(official), 3)],
      categories: categories.filter((c) => c.isthing === 1),
    }),
  );
  writeFileSync(
    join(dir, "panoptic.json"),
    JSON.stringify({
      images: [image(1, "a.png"), image(2, "b.png"), image(3, "bad.png")],
      annotations: [
        { image_id: 1, file_name: "a.png", segments_info: segs(official) },
        { image_id: 2, file_name: "b.png", segments_info: segsB },
        { image_id: 3, file_name: "bad.png", segments_info: segs(official) },
      ],
      categories,
    }),
  );
}

const metrics = (dir: string) => JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));

describe.skipIf(!HAS_SHARED)(`fcclip eval (${HAS_SHARED ? "oracle" : NO_SHARED})`, () => {
  test("model run, a bad image, --resume, --predictions, --shard, --merge, coco-instances and semantic sets", async () => {
    const root = mkdtempSync(join(tmpdir(), "fcclip-eval-"));
    const data = join(root, "data");
    await makeDataset(data);
    const cache = join(root, "cache");
    const model = [...TINY_SEGMENT_ARGS.slice(1).filter((a) => a !== "--no-cache"), "--cache-dir", cache];
    const lines: string[] = [];
    const log = (s: string) => lines.push(s);
    let printed = "";
    const print = (s: string) => {
      printed += s;
    };
    const base = ["eval", "--dataset", data, "--format", "coco-panoptic", "--vocab", "coco_panoptic"];

    // 1. The model over the dataset: the damaged image is reported and skipped, the exit code says so.
    const out = join(root, "out");
    expect(await run([...base, ...model, "--output", out], log, print)).toBe(1);
    expect(lines.some((l) => /image 3 .*bad\.png.* skipped: .*not a PNG or JPEG/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/1 image\(s\) have no result: 3/);
    expect(JSON.parse(readFileSync(join(out, "failed.json"), "utf8"))).toMatchObject([{ image_id: 3 }]);
    expect(readdirSync(join(out, "images")).sort()).toEqual(["1.json", "2.json"]);
    const m1 = metrics(out);
    expect(m1.images).toEqual({ total: 3, evaluated: 2, missing: [3] });
    // The ground truth is the official output: every segment matches with IoU 1 (VOID and crowd ignored in b).
    expect(m1.panoptic).toMatchObject({ PQ: 100, SQ: 100, RQ: 100 });
    expect(m1.panoptic.categories_averaged.all).toBeGreaterThan(0);
    expect(m1.semantic.mIoU).toBeGreaterThan(0);
    expect(m1.instance.AP).toBeGreaterThan(0);
    expect(printed).toMatch(/panoptic {2}PQ 100.00 {2}SQ 100.00/);

    // 2. Fix the image and resume: only image 3 is evaluated, the finished records are left alone.
    const before = statSync(join(out, "images", "1.json")).mtimeMs;
    copyFileSync(CHELSEA, join(data, "images", "bad.png"));
    lines.length = 0;
    expect(await run([...base, ...model, "--output", out, "--resume"], log, print)).toBe(0);
    expect(lines).toContain("evaluated 1 image(s), 2 already done, 0 failed");
    expect(statSync(join(out, "images", "1.json")).mtimeMs).toBe(before);
    const m2 = metrics(out);
    expect(m2.images).toEqual({ total: 3, evaluated: 3, missing: [] });
    expect(readdirSync(out)).not.toContain("failed.json");

    // 3. The same images segmented by `fcclip segment` (a folder as --input), then scored with --predictions.
    const preds = join(root, "preds");
    expect(
      await run(
        [...TINY_SEGMENT_ARGS, "--vocab", "coco_panoptic", "--input", join(data, "images"), "--output", preds],
        log,
      ),
    ).toBe(0);
    const outP = join(root, "out-preds");
    expect(
      await run([...base, "--data-dir", join(SHARED, "data"), "--predictions", preds, "--output", outP], log, print),
    ).toBe(0);
    const m3 = metrics(outP);
    expect(m3.panoptic).toEqual(m2.panoptic);
    expect(m3.semantic).toEqual(m2.semantic);
    expect(m3.instance).toEqual(m2.instance);

    // 4. Two shards into separate folders, merged: the same metrics; a missing shard is reported.
    const shards = [0, 1].map((i) => join(root, `shard${i}`));
    for (const [i, dir] of shards.entries()) {
      const args = [...base, "--data-dir", join(SHARED, "data"), "--predictions", preds, "--output", dir];
      expect(await run([...args, "--shard", `${i}/2`], log, print)).toBe(0);
    }
    expect(readdirSync(join(shards[0]!, "images")).sort()).toEqual(["1.json", "3.json"]);
    expect(readdirSync(join(shards[1]!, "images"))).toEqual(["2.json"]);
    const merged = join(root, "merged");
    expect(await run(["eval", "--merge", ...shards, "--output", merged], log, print)).toBe(0);
    const m4 = metrics(merged);
    expect(m4.images).toEqual(m2.images);
    expect(m4.panoptic).toEqual(m2.panoptic);
    expect(m4.semantic).toEqual(m2.semantic);
    expect(m4.instance).toEqual(m2.instance);
    expect(await run(["eval", "--merge", shards[1]!], log, print)).toBe(1);
    expect(lines.at(-1)).toMatch(/2 image\(s\) have no result: 1, 3/);

    // 5. The same objects as a COCO instances json (80 thing categories, matched to the 133 classes by name): the
    // same mask AP as from the panoptic ground truth.
    const outI = join(root, "out-instances");
    const inst = ["eval", "--dataset", data, "--format", "coco-instances", "--vocab", "coco_panoptic"];
    expect(
      await run([...inst, "--data-dir", join(SHARED, "data"), "--predictions", preds, "--output", outI], log, print),
    ).toBe(0);
    const m5 = metrics(outI);
    expect(m5.instance).toEqual(m2.instance);
    expect(m5.panoptic).toBeUndefined();

    // 6. A semantic dataset whose label maps are the official semantic output (sem_seg_argmax.png): the predictions
    // of `fcclip segment` equal it, so every class present has IoU 100.
    const sem = join(root, "sem");
    mkdirSync(join(sem, "annotations"), { recursive: true });
    mkdirSync(join(sem, "images"));
    copyFileSync(join(RUN, "sem_seg_argmax.png"), join(sem, "annotations", "a.png"));
    copyFileSync(CHELSEA, join(sem, "images", "a.png"));
    const outS = join(root, "out-sem");
    const semArgs = ["eval", "--dataset", sem, "--format", "semantic", "--vocab", "coco_panoptic"];
    expect(
      await run([...semArgs, "--data-dir", join(SHARED, "data"), "--predictions", preds, "--output", outS], log, print),
    ).toBe(0);
    const m6 = metrics(outS);
    expect(m6.semantic).toMatchObject({ mIoU: 100, mACC: 100, pACC: 100 });
    expect(m6.semantic.fwIoU).toBeCloseTo(100, 12); // a sum of IoU × pixel share
    expect(Object.values(m6.semantic.IoU).filter((v) => v !== null).length).toBeGreaterThan(1);
    expect(m6.panoptic).toBeUndefined();

    // 7. A vocabulary that does not fit the dataset is a usage error.
    expect(
      await run(
        [
          ...base.slice(0, -1),
          "ade20k_150",
          "--data-dir",
          join(SHARED, "data"),
          "--predictions",
          preds,
          "--output",
          outP,
        ],
        log,
      ),
    ).toBe(2);
    expect(lines.at(-1)).toMatch(/150 classes, the dataset 133 categories/);
  });
});

describe("vocabulary classes → dataset categories", () => {
  const vocab = parseInlineVocabulary("person,people;car;stuff:sky");
  const cat = (id: number, name: string) => ({ id, name, isthing: true });

  test("by position when the counts agree, by synonym for an instances json with fewer categories", () => {
    expect(vocabularyToDataset(vocab, [cat(5, "x"), cat(7, "y"), cat(9, "z")], "coco-panoptic")).toEqual([5, 7, 9]);
    expect(vocabularyToDataset(vocab, [cat(3, "Car"), cat(1, "people")], "coco-instances")).toEqual([1, 3, null]);
  });

  test("a category no class names, or a count mismatch outside instances, is a usage error", () => {
    expect(() => vocabularyToDataset(vocab, [cat(1, "truck")], "coco-instances")).toThrow(
      /no class of the vocabulary custom is named truck/,
    );
    expect(() => vocabularyToDataset(vocab, [cat(1, "car")], "coco-panoptic")).toThrow(
      /has 3 classes, the dataset 1 categories/,
    );
  });
});
