import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DatasetError, openDataset } from "./dataset-layouts.js";

function touch(path: string, content = "x") {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
}

describe("dataset layouts", () => {
  test("ADE20K's semantic layout is found from $DETECTRON2_DATASETS and from its own folder", async () => {
    const root = mkdtempSync(join(tmpdir(), "fcclip-ds-"));
    const ade = join(root, "ADEChallengeData2016");
    for (const n of ["b", "a"]) {
      touch(join(ade, "images", "validation", `ADE_val_${n}.jpg`));
      touch(join(ade, "annotations_detectron2", "validation", `ADE_val_${n}.png`));
    }
    for (const dir of [root, ade]) {
      const d = await openDataset(dir, "semantic");
      expect(d).toMatchObject({ layout: "ade20k", vocab: "ade20k_150", ignoreLabel: 255, base: ade });
      expect(d.images.map((i) => i.id)).toEqual(["ADE_val_a", "ADE_val_b"]);
      expect(d.images[0]!.file).toBe(join(ade, "images", "validation", "ADE_val_a.jpg"));
    }
    touch(join(ade, "annotations_detectron2", "validation", "ADE_val_c.png"));
    await expect(openDataset(root, "semantic")).rejects.toThrow(/ADE_val_c.png has no image ADE_val_c.jpg/);
  });

  test("COCO panoptic json: categories in file order, images sorted by id, Cityscapes-style nested images", async () => {
    const root = mkdtempSync(join(tmpdir(), "fcclip-ds-"));
    const cs = join(root, "cityscapes");
    touch(join(cs, "leftImg8bit", "val", "frankfurt", "frankfurt_000001_leftImg8bit.png"));
    touch(
      join(cs, "gtFine", "cityscapes_panoptic_val.json"),
      JSON.stringify({
        images: [
          { id: "frankfurt_000001", file_name: "frankfurt_000001_leftImg8bit.png", height: 2, width: 3 },
          { id: "aachen_000000", file_name: "aachen_000000_leftImg8bit.png", height: 2, width: 3 },
        ],
        annotations: [
          { image_id: "frankfurt_000001", file_name: "f.png", segments_info: [] },
          { image_id: "aachen_000000", file_name: "a.png", segments_info: [] },
        ],
        categories: [
          { id: 7, name: "road", isthing: 0 },
          { id: 24, name: "person", isthing: 1 },
        ],
      }),
    );
    mkdirSync(join(cs, "gtFine", "cityscapes_panoptic_val"));
    const d = await openDataset(root, "coco-panoptic");
    expect(d.layout).toBe("cityscapes");
    expect(d.vocab).toBeUndefined();
    expect(d.categories).toEqual([
      { id: 7, name: "road", isthing: false },
      { id: 24, name: "person", isthing: true },
    ]);
    expect(d.images.map((i) => i.id)).toEqual(["aachen_000000", "frankfurt_000001"]);
    expect(d.images[1]!.file).toBe(join(cs, "leftImg8bit", "val", "frankfurt", "frankfurt_000001_leftImg8bit.png"));
    expect(d.images[1]!.panoptic!.png).toBe(join(cs, "gtFine", "cityscapes_panoptic_val", "f.png"));
  });

  test("panoptic sets use the semantic label maps detectron2 registers with them, when present", async () => {
    const root = mkdtempSync(join(tmpdir(), "fcclip-ds-"));
    const ade = join(root, "ADEChallengeData2016");
    touch(join(ade, "images", "validation", "ADE_val_1.jpg"));
    touch(
      join(ade, "ade20k_panoptic_val.json"),
      JSON.stringify({
        images: [{ id: "ADE_val_1", file_name: "ADE_val_1.jpg" }],
        annotations: [{ image_id: "ADE_val_1", file_name: "ADE_val_1.png", segments_info: [] }],
        categories: [{ id: 0, name: "wall", isthing: 0 }],
      }),
    );
    mkdirSync(join(ade, "ade20k_panoptic_val"));
    expect((await openDataset(root, "coco-panoptic")).images[0]!.semantic).toBeUndefined();
    mkdirSync(join(ade, "annotations_detectron2", "validation"), { recursive: true });
    const d = await openDataset(root, "coco-panoptic");
    expect(d).toMatchObject({ layout: "ade20k", ignoreLabel: 255, vocab: "ade20k_150" });
    expect(d.images[0]!.semantic).toBe(join(ade, "annotations_detectron2", "validation", "ADE_val_1.png"));
    expect(d.images[0]!.instances).toBeUndefined();
  });

  test("an instances json counts only when its category ids are the panoptic ones", async () => {
    const root = mkdtempSync(join(tmpdir(), "fcclip-ds-"));
    const ade = join(root, "ADEChallengeData2016");
    touch(join(ade, "images", "validation", "1.jpg"));
    mkdirSync(join(ade, "ade20k_panoptic_val"));
    touch(
      join(ade, "ade20k_panoptic_val.json"),
      JSON.stringify({
        images: [{ id: 1, file_name: "1.jpg" }],
        annotations: [{ image_id: 1, file_name: "1.png", segments_info: [] }],
        categories: [
          { id: 1, name: "person", isthing: 1 },
          { id: 2, name: "sky", isthing: 0 },
        ],
      }),
    );
    const write = (name: string) =>
      touch(
        join(ade, "ade20k_instance_val.json"),
        JSON.stringify({
          images: [{ id: 1, file_name: "1.jpg" }],
          annotations: [{ image_id: 1, category_id: 1, area: 1, segmentation: [[0, 0, 1, 0, 1, 1]] }],
          categories: [{ id: 1, name }],
        }),
      );
    write("Person");
    const ok = await openDataset(root, "coco-panoptic");
    expect(ok.notes).toEqual([]);
    expect(ok.images[0]!.instances).toHaveLength(1);
    write("bed");
    const clash = await openDataset(root, "coco-panoptic");
    expect(clash.images[0]!.instances).toBeUndefined();
    expect(clash.notes[0]).toMatch(
      /ade20k_instance_val.json is not used: its category 1 is 'bed', the panoptic json's is 'person'/,
    );
  });

  test("what is missing or unsupported is named", async () => {
    const root = mkdtempSync(join(tmpdir(), "fcclip-ds-"));
    await expect(openDataset(root, "coco-panoptic")).rejects.toThrow(
      /holds no coco-panoptic dataset; expected one of: \[coco\/\]annotations\/panoptic_val2017.json \+ val2017\//,
    );
    await expect(openDataset(root, "semantic", "nope")).rejects.toThrow(/no semantic layout named 'nope'/);
    touch(join(root, "images", "x.jpg"));
    touch(join(root, "annotations", "x.tif"));
    await expect(openDataset(root, "semantic")).rejects.toThrow(DatasetError);
    await expect(openDataset(root, "semantic")).rejects.toThrow(/TIFF label maps/);
  });
});
