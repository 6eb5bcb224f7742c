import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import {
  expectedShapes,
  type FcclipArchitecture,
  inferArchitecture,
  OPENAI_RESNET_CLIPS,
  withOpenAiResNetClip,
} from "./architecture.js";
import { WeightsMismatchError } from "./errors.js";

type KeyList = { keys: { key: string; shape: number[] }[] };
const keyShapes = (file: string) =>
  new Map((JSON.parse(readFileSync(join(SHARED, file), "utf8")) as KeyList).keys.map((k) => [k.key, k.shape] as const));

describe.skipIf(!HAS_SHARED)(
  `architecture from the official key lists (${HAS_SHARED ? "../shared found" : NO_SHARED})`,
  () => {
    test("ConvNeXt-L FC-CLIP: inferred sizes regenerate all 846 keys and shapes of the official manifest", () => {
      const shapes = keyShapes("data/fcclip_convnext_large_manifest.json");
      expect(shapes.size).toBe(846);
      const arch = inferArchitecture(shapes);
      expect(arch.clip).toMatchObject({
        dims: [192, 384, 768, 1536],
        depths: [3, 3, 27, 3],
        embedDim: 768,
        textWidth: 768,
        textLayers: 16,
      });
      expect(arch.decoder).toMatchObject({ hiddenDim: 256, numQueries: 250, layers: 9, ffnDim: 2048 });
      expect(arch.pixelDecoder).toMatchObject({ convDim: 256, maskDim: 256, encoderLayers: 6, ffnDim: 1024 });
      expect(arch.trainNumClasses).toBe(133);
      expect(new Map(expectedShapes(arch))).toEqual(new Map([...shapes].map(([k, s]) => [k, [...s]])));
    });

    test("the oracle's tiny FC-CLIP: the same with NHEADS 4 from its config", () => {
      const shapes = keyShapes("oracle/tiny/model/weights.json");
      const arch = inferArchitecture(shapes, { heads: 4, textHeads: 4 });
      expect(arch.clip).toMatchObject({ dims: [32, 64, 96, 128], depths: [1, 1, 2, 1], embedDim: 48, textWidth: 16 });
      expect(arch.decoder).toMatchObject({ hiddenDim: 64, numQueries: 25, layers: 3, ffnDim: 128 });
      expect(new Map(expectedShapes(arch))).toEqual(new Map([...shapes].map(([k, s]) => [k, [...s]])));
    });

    test("a wrong head count shows up as mis-shaped deformable-attention weights", () => {
      const shapes = keyShapes("oracle/tiny/model/weights.json");
      const wrong = expectedShapes(inferArchitecture(shapes, { heads: 8, textHeads: 4 }));
      const key = "sem_seg_head.pixel_decoder.transformer.encoder.layers.0.self_attn.sampling_offsets.weight";
      expect(wrong.get(key)).not.toEqual(shapes.get(key));
    });
  },
);

test("inference without the sizing keys names them", () => {
  expect(() => inferArchitecture(new Map([["sem_seg_head.predictor.query_feat.weight", [25, 64]]]))).toThrow(
    WeightsMismatchError,
  );
  expect(() => inferArchitecture(new Map())).toThrow(/backbone\.clip_model\.positional_embedding/);
});

/** The official heads (FCCLIP-SPEC §8.3: 256 wide, 250 queries, 9 decoder layers); the CLIP is set per test. */
const HEADS: FcclipArchitecture = {
  clip: {
    dims: [192, 384, 768, 1536],
    depths: [3, 3, 27, 3],
    embedDim: 768,
    textWidth: 768,
    textLayers: 16,
    textHeads: 12,
    contextLength: 77,
    vocabSize: 49408,
  },
  pixelDecoder: { convDim: 256, maskDim: 256, encoderLayers: 6, heads: 8, points: 4, ffnDim: 1024 },
  decoder: { hiddenDim: 256, numQueries: 250, layers: 9, heads: 8, ffnDim: 2048 },
  trainNumClasses: null,
};

describe("ResNet CLIP key tables", () => {
  const params = (shapes: Map<string, number[]>, prefix: string) =>
    [...shapes]
      .filter(([k]) => k.startsWith(prefix) && !k.includes("running_"))
      .reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);

  test("OpenAI's image towers have their published parameter counts (open_clip's model profile, in millions)", () => {
    const visual = "backbone.clip_model.visual.";
    const millions = (name: keyof typeof OPENAI_RESNET_CLIPS) =>
      params(expectedShapes(withOpenAiResNetClip(HEADS, name)), visual) / 1e6;
    expect(millions("RN50")).toBeCloseTo(38.32, 2);
    expect(millions("RN101")).toBeCloseTo(56.26, 2);
    expect(millions("RN50x4")).toBeCloseTo(87.14, 2);
  });

  test("sizes read back from the table they generate, family and grid included", () => {
    for (const name of Object.keys(OPENAI_RESNET_CLIPS) as (keyof typeof OPENAI_RESNET_CLIPS)[]) {
      const a = withOpenAiResNetClip(HEADS, name);
      expect(inferArchitecture(expectedShapes(a)).clip, name).toEqual(a.clip);
    }
    const shapes = expectedShapes(withOpenAiResNetClip(HEADS, "RN50"));
    expect(shapes.get("backbone.clip_model.visual.layer4.0.downsample.0.weight")).toEqual([2048, 1024, 1, 1]);
    expect(shapes.get("backbone.clip_model.visual.attnpool.positional_embedding")).toEqual([50, 2048]);
    expect(shapes.get("sem_seg_head.pixel_decoder.input_proj.0.0.weight")).toEqual([256, 2048, 1, 1]);
    expect(shapes.get("sem_seg_head.pixel_decoder.adapter_1.weight")).toEqual([256, 256, 1, 1]);
  });
});
