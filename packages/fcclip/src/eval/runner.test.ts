import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ImageDecodeError } from "../image/decode.js";
import { encodePng } from "../output/png.js";
import type { Segmentation } from "../postprocess/inference.js";
import { type DatasetImage, openDataset } from "./dataset-layouts.js";
import { mergeRuns, type RunManifest, RunMismatchError, runImages, shardImages, startRun } from "./runner.js";

/** A generic semantic dataset: 5 images of 4×3 pixels, ground truth class (i + pixel) mod 3. */
async function dataset() {
  const dir = mkdtempSync(join(tmpdir(), "fcclip-run-"));
  mkdirSync(join(dir, "images"));
  mkdirSync(join(dir, "annotations"));
  for (let i = 0; i < 5; i++) {
    writeFileSync(join(dir, "images", `img${i}.png`), "unused: predictions come from the test");
    const labels = Uint8Array.from({ length: 12 }, (_, p) => (p === 0 ? 255 : (i + p) % 3));
    writeFileSync(join(dir, "annotations", `img${i}.png`), await encodePng(4, 3, 1, labels));
  }
  return { dir, ds: await openDataset(dir, "semantic") };
}

const manifest = (ids: (string | number)[]): RunManifest => ({
  format: "semantic",
  layout: "generic",
  vocabulary: "abc",
  tasks: ["semantic"],
  categories: ["a", "b", "c"].map((name, id) => ({ id, name, isthing: true, seen: id === 0 })),
  classToCategory: [0, 1, 2],
  ignoreLabel: 255,
  imageIds: ids,
});

/** Predicts class (pixel mod 3): right on image 0 (and 3), wrong elsewhere; image 2 cannot be read. */
async function predict(image: DatasetImage): Promise<Segmentation> {
  if (image.id === "img2") throw new ImageDecodeError("img2.png: not a PNG or JPEG file");
  return { height: 3, width: 4, semantic: Int32Array.from({ length: 12 }, (_, p) => p % 3) };
}

describe("dataset runs", () => {
  test("failures are listed, records written per image, --resume redoes only what is missing", async () => {
    const { ds } = await dataset();
    const out = mkdtempSync(join(tmpdir(), "fcclip-out-"));
    const m = manifest(ds.images.map((i) => i.id));
    await startRun(out, m);
    const logs: string[] = [];
    let prepared = 0;
    const opts = {
      output: out,
      manifest: m,
      images: ds.images,
      resume: false,
      prepare: async () => {
        prepared++;
      },
      predict,
      log: (s: string) => logs.push(s),
    };
    const first = await runImages(opts);
    expect(first).toMatchObject({ evaluated: 4, skipped: 0 });
    expect(first.failed).toEqual([
      { image_id: "img2", file: ds.images[2]!.file, error: "img2.png: not a PNG or JPEG file" },
    ]);
    expect(logs[0]).toMatch(/image img2 .* skipped: img2.png: not a PNG or JPEG file/);
    expect(readdirSync(join(out, "images")).sort()).toEqual(["img0.json", "img1.json", "img3.json", "img4.json"]);
    expect(readdirSync(join(out, "images")).some((n) => n.includes("partial"))).toBe(false);
    expect(existsSync(join(out, "failed.json"))).toBe(true);
    const merged = await mergeRuns([out]);
    expect(merged.missing).toEqual(["img2"]);
    expect(merged.evaluated).toBe(4);

    // Resumed: the four finished images are skipped; with nothing failing any more, failed.json goes away.
    const again = await runImages({ ...opts, resume: true, predict: async (im) => predict({ ...im, id: "fixed" }) });
    expect(again).toMatchObject({ evaluated: 1, skipped: 4, failed: [] });
    expect(existsSync(join(out, "failed.json"))).toBe(false);
    // All finished: nothing to predict, so the model is not even loaded.
    expect(await runImages({ ...opts, resume: true })).toMatchObject({ evaluated: 0, skipped: 5 });
    expect(prepared).toBe(2);
    const full = await mergeRuns([out]);
    expect(full.missing).toEqual([]);
    // Images 0 and 3 are predicted right (11 pixels each, pixel 0 ignored); the others are all wrong.
    expect(full.metrics.semantic!.pACC).toBeCloseTo((100 * 22) / 55, 12);
  });

  test("shards split the sorted list deterministically and merge to the single run's metrics", async () => {
    const { ds } = await dataset();
    expect(shardImages([0, 1, 2, 3, 4, 5, 6], { index: 1, count: 3 })).toEqual([1, 4]);
    const m = manifest(ds.images.map((i) => i.id));
    const ok = async (image: DatasetImage) => predict({ ...image, id: "ok" });
    const single = mkdtempSync(join(tmpdir(), "fcclip-out-"));
    await startRun(single, m);
    await runImages({ output: single, manifest: m, images: ds.images, resume: false, predict: ok, log: () => {} });
    const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), "fcclip-shard-")));
    for (const [index, dir] of dirs.entries()) {
      await startRun(dir, m);
      const r = await runImages({
        output: dir,
        manifest: m,
        images: ds.images,
        shard: { index, count: 3 },
        resume: false,
        predict: ok,
        log: () => {},
      });
      expect(r.evaluated).toBe(index < 2 ? 2 : 1);
    }
    const merged = await mergeRuns(dirs);
    expect(merged.missing).toEqual([]);
    expect(merged.metrics).toEqual((await mergeRuns([single])).metrics);
    expect((await mergeRuns(dirs.slice(1))).missing).toEqual(["img0", "img3"]);
  });

  test("a folder of another run is refused", async () => {
    const out = mkdtempSync(join(tmpdir(), "fcclip-out-"));
    await startRun(out, manifest(["a"]));
    await expect(startRun(out, manifest(["a", "b"]))).rejects.toThrow(RunMismatchError);
    const other = mkdtempSync(join(tmpdir(), "fcclip-out-"));
    await startRun(other, { ...manifest(["a"]), vocabulary: "xyz" });
    await expect(mergeRuns([out, other])).rejects.toThrow(/is a run of another dataset, vocabulary or task set/);
    await expect(mergeRuns([mkdtempSync(join(tmpdir(), "x-"))])).rejects.toThrow(/holds no run.json/);
    expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).imageIds).toEqual(["a"]);
  });
});
