import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import { loadFcclipWeights } from "../weights/load.js";
import { FcclipModel } from "./fcclip-model.js";

// A tiny FC-CLIP on a ConvNeXt CLIP (widths 13, 18, 27, 45; embedding 27), from the files a user has: the heads
// as a torch.save checkpoint like fcclip_cocopan.pth and the CLIP like open_clip_pytorch_model.bin; references from
// fixtures/generate_convnext_fcclip.py. The same checks against the official outputs are in fcclip-model.test.ts.
const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");
const meta = JSON.parse(readFileSync(join(FIXTURES, "convnext_fcclip_ref.json"), "utf8")) as {
  seen: number[];
  is_thing: boolean[];
  synonyms: number[];
  heads: number;
  text_heads: number;
  min_size: number;
  max_size: number;
  detections: number;
  valid_queries: number;
  segments: { id: number; isthing: boolean; category_id: number }[];
};

describe("FC-CLIP with a ConvNeXt CLIP vs the PyTorch reference", async () => {
  const e = await testEngine();
  const ref = await openStateDict(bytesSource(readFileSync(join(FIXTURES, "convnext_fcclip_ref.safetensors")), "ref"));
  const get = async (k: string) => {
    const t = await ref.read(`ref.${k}`);
    return { shape: t.shape, data: toFloat32(t) };
  };
  const vocab: Vocabulary = {
    name: "convnext-fixture",
    classes: meta.synonyms.map((n, c) => ({
      name: `class${c}`,
      synonyms: Array.from({ length: n }, (_, s) => `class${c} synonym${s}`),
      isThing: meta.is_thing[c]!,
    })),
  };

  test("heads .pth + open_clip .bin → every stage, then panoptic, semantic and instance outputs", async () => {
    const weights = await loadFcclipWeights(
      [
        bytesSource(readFileSync(join(FIXTURES, "convnext_fcclip_heads.pth")), "convnext_fcclip_heads.pth"),
        bytesSource(readFileSync(join(FIXTURES, "convnext_clip_tiny.bin")), "convnext_clip_tiny.bin"),
      ],
      { heads: meta.heads, textHeads: meta.text_heads },
    );
    const a = weights.architecture;
    expect(a.clip).toMatchObject({
      family: "convnext",
      dims: [13, 18, 27, 45],
      depths: [1, 2, 1, 1],
      embedDim: 27,
      textWidth: 20,
      textLayers: 2,
      textActivation: "gelu",
      vocabSize: 300,
    });
    expect(a.decoder).toMatchObject({ hiddenDim: 32, numQueries: 13, layers: 3 });
    expect(weights.files.map((f) => f.layout)).toEqual(["fcclip", "open_clip"]);
    const model = await FcclipModel.load(e, weights, null, {
      minSize: meta.min_size,
      maxSize: meta.max_size,
      detectionsPerImage: meta.detections,
    });
    await weights.close();
    expect(model.config.ensembleOnValidMask).toBe(false);

    // The model's own text tower (exact GELU), on token ids of the tiny vocabulary.
    const tokens = await ref.read("ref.text.tokens");
    const y = model.textEncoder.encodeTokens(new Int32Array(tokens.bytes.slice().buffer), tokens.shape[0]!);
    expectClose(await y.read(), await get("text.features"), 1e-5, "text features");
    y.dispose();

    // The reference's text classifier, handed over as a persisted one (the tiny vocabulary cannot spell prompts).
    const classifier = (await get("classifier")).data;
    const clf = await model.textClassifier(vocab, { store: { get: async () => classifier, set: async () => {} } });
    expect(clf.source).toBe("store");

    const image = await ref.read("ref.image");
    const img = { width: image.shape[1]!, height: image.shape[0]!, data: new Uint8Array(image.bytes) };
    const out = await model.segment(img, vocab, { seen: Uint8Array.from(meta.seen), dump: true });
    const dumped = (k: string) => out.tensors!.get(k)!;

    // Every stage within 1e-5 of its largest reference value (at most 2e-6 measured on lavapipe).
    for (const [ours, theirs] of [
      ["backbone.res2", "res2"],
      ["backbone.res3", "res3"],
      ["backbone.res4", "res4"],
      ["backbone.res5", "res5"],
      ["backbone.clip_vis_dense", "res5"],
      ["pixel_decoder.mask_features", "mask_features"],
      ["decoder.pred_masks", "pred_masks"],
      ["decoder.pred_logits", "pred_logits"],
      ["oov.mask_for_pooling", "mask_for_pooling"],
      ["oov.mask_pooled_clip_feature", "mask_pooled_clip_feature"],
      ["oov.pooled_clip_feature", "pooled_clip_feature"],
      ["oov.out_vocab_logits", "out_vocab_logits"],
      ["ens.mask_cls_results", "mask_cls_results"],
    ] as const) {
      const want = await get(theirs);
      expect(dumped(ours).shape, ours).toEqual(want.shape);
      expectClose(dumped(ours).data, want, 1e-5, ours);
    }

    // Semantic argmax: equal wherever the reference's top two classes are not within 1e-4.
    const sem = (await get("semantic")).data;
    const margin = (await get("semantic_margin")).data;
    let unexplained = 0;
    for (let i = 0; i < sem.length; i++) if (out.semantic![i] !== sem[i] && margin[i]! >= 1e-4) unexplained++;
    expect(unexplained).toBe(0);

    // Panoptic ids pixel for pixel, and the segments: things of class 0 and one stuff segment.
    const pan = (await get("panoptic")).data;
    expect(Array.from(out.panoptic!.ids)).toEqual(Array.from(pan));
    expect(meta.segments.length).toBeGreaterThan(1);
    expect(out.panoptic!.segments).toMatchObject(
      meta.segments.map((s) => ({ id: s.id, isthing: s.isthing, category_id: s.category_id })),
    );

    // Instances: the same (class, score, area) set.
    const scores = (await get("instance_scores")).data;
    const classes = (await get("instance_classes")).data;
    const areas = (await get("instance_areas")).data;
    const theirs = Array.from(scores, (s, i) => ({ category_id: classes[i]!, score: s, area: areas[i]! }));
    const order = <T extends { category_id: number; score: number }>(xs: T[]) =>
      [...xs].sort((x, y) => x.category_id - y.category_id || x.score - y.score);
    const ours = order(out.instances!);
    expect(ours.length).toBe(theirs.length);
    order(theirs).forEach((r, i) => {
      expect(ours[i]!.category_id).toBe(r.category_id);
      expect(Math.abs(ours[i]!.score - r.score)).toBeLessThan(1e-5);
      expect(ours[i]!.area).toBe(r.area);
    });
    model.dispose();
  });
});
