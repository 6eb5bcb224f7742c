import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytesSource, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { testEngine } from "../../../tensor-core/src/testing/harness.js";
import { FcclipError } from "../errors.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import { type InferenceOptions, inference, type Task } from "./inference.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures");

interface Case {
  name: string;
  rule: string;
  isThing: boolean[];
  geometry: { low: [number, number]; padded: [number, number]; cropped: [number, number]; original: [number, number] };
  overlapThreshold: number;
  objectMaskThreshold: number;
  detectionsPerImage: number;
  segments: { id: number; category_id: number; isthing: boolean; area: number }[];
  instances: { score: number; category_id: number; area: number }[];
}

const { cases } = JSON.parse(readFileSync(join(FIXTURES, "panoptic.json"), "utf8")) as { cases: Case[] };
const st = await SafetensorsFile.open(bytesSource(readFileSync(join(FIXTURES, "panoptic.safetensors"))));

describe("post-processing rules on crafted inputs vs PyTorch (fixtures/generate_panoptic.py)", () => {
  for (const c of cases) {
    test(`${c.name}: ${c.rule}`, async () => {
      const e = await testEngine();
      const masks = await st.read(`${c.name}/masks`);
      const maskCls = toFloat32(await st.read(`${c.name}/mask_cls`));
      const vocab: Vocabulary = {
        name: c.name,
        classes: c.isThing.map((isThing, i) => ({ name: `c${i}`, synonyms: [`c${i}`], isThing })),
      };
      const low = e.tensor(toFloat32(masks), masks.shape);
      const seg = await inference(e, low, maskCls, vocab, c.geometry, {
        tasks: ["panoptic", "semantic", "instance"],
        overlapThreshold: c.overlapThreshold,
        objectMaskThreshold: c.objectMaskThreshold,
        detectionsPerImage: c.detectionsPerImage,
        chunk: 64,
      });
      low.dispose();
      expect(
        seg.panoptic!.segments.map(({ id, category_id, isthing, area }) => ({ id, category_id, isthing, area })),
      ).toEqual(c.segments.map(({ id, category_id, isthing, area }) => ({ id, category_id, isthing, area })));
      expect(Array.from(seg.panoptic!.ids)).toEqual(Array.from(toFloat32(await st.read(`${c.name}/panoptic`))));
      expect(Array.from(seg.semantic!)).toEqual(Array.from(toFloat32(await st.read(`${c.name}/semantic`))));
      // Equal scores may come in either order: compare instances sorted by class, area and score.
      const order = (l: { score: number; category_id: number; area: number }[]) =>
        [...l].sort((a, b) => a.category_id - b.category_id || a.area - b.area || a.score - b.score);
      const ours = order(seg.instances!);
      const want = order(c.instances);
      expect(ours.map((i) => [i.category_id, i.area])).toEqual(want.map((i) => [i.category_id, i.area]));
      for (const [j, i] of ours.entries()) expect(i.score).toBeCloseTo(want[j]!.score, 6);
    });
  }
});

describe("one mask-logit stream for the three tasks", () => {
  const c = cases[0]!;
  const run = async (tasks: Task[], extra: Partial<InferenceOptions> = {}) => {
    const e = await testEngine();
    const masks = await st.read(`${c.name}/masks`);
    const low = e.tensor(toFloat32(masks), masks.shape);
    const vocab: Vocabulary = {
      name: c.name,
      classes: c.isThing.map((isThing, i) => ({ name: `c${i}`, synonyms: [`c${i}`], isThing })),
    };
    try {
      return await inference(e, low, toFloat32(await st.read(`${c.name}/mask_cls`)), vocab, c.geometry, {
        tasks,
        overlapThreshold: c.overlapThreshold,
        objectMaskThreshold: c.objectMaskThreshold,
        detectionsPerImage: c.detectionsPerImage,
        chunk: 64,
        ...extra,
      });
    } finally {
      low.dispose();
    }
  };

  test("each task alone gives what it gives beside the others", async () => {
    const all = await run(["panoptic", "semantic", "instance"]);
    expect((await run(["semantic"])).semantic).toEqual(all.semantic);
    expect((await run(["panoptic"])).panoptic).toEqual(all.panoptic);
    expect((await run(["instance"])).instances).toEqual(all.instances);
    const one = await run(["instance"], { chunk: 65536 });
    expect(one.instances).toEqual(all.instances);
    expect(one.semantic).toBeUndefined();
    expect(one.panoptic).toBeUndefined();
  });

  test("panoptic or instance inference resize the mask logits first for semantic too, as the official model", async () => {
    const tasks: Task[] = ["semantic", "panoptic", "instance"];
    const before = await run(tasks);
    expect(await run(tasks, { semanticBeforeInference: false })).toEqual(before);
    expect(await run(["semantic", "instance"], { semanticBeforeInference: false })).toEqual({
      ...before,
      panoptic: undefined,
    });
  });

  test("a chunk that is not a multiple of 32 pixels is refused", async () => {
    await expect(run(["semantic"], { chunk: 48 })).rejects.toThrow(FcclipError);
    await expect(run(["semantic"], { chunk: 48 })).rejects.toThrow(/positive multiple of 32, got 48/);
  });
});
