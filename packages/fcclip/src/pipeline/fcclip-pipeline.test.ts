import { describe, expect, test } from "vitest";
import { testEngine } from "../../../tensor-core/src/testing/harness.js";
import { loadResNetFixture } from "../testing/resnet-fixture.js";
import { FCCLIP_STAGES } from "./stages.js";

// The stages and hooks of one image, on the tiny ResNet FC-CLIP (fixtures/generate_resnet_fcclip.py).
describe("FcclipPipeline stages and hooks", async () => {
  const e = await testEngine();
  const f = await loadResNetFixture(e);
  await f.model.textClassifier(f.vocab, { store: f.store });

  test("stages come in the official order; each intermediate is handed over once, alive, at its stage's end", async () => {
    const events: string[] = [];
    const shapes = new Map<string, readonly number[]>();
    const watched = await f.model.segment(f.img, f.vocab, {
      seen: f.seen,
      onStage: (stage, ms) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        events.push(`stage ${stage}`);
      },
      onTensor: async (name, t) => {
        expect(shapes.has(name), name).toBe(false);
        const data = await t.read();
        expect(data.length, name).toBe(t.shape.reduce((a, b) => a * b, 1));
        shapes.set(name, t.shape);
        events.push(name);
      },
    });
    expect(events.filter((x) => x.startsWith("stage ")).map((x) => x.slice(6))).toEqual([...FCCLIP_STAGES]);
    // Tensors follow the stage that made them: the backbone's after "stage backbone", the decoder's after its stage.
    const after = (name: string) => events.lastIndexOf(`stage ${name}`);
    const at = (name: string) => events.indexOf(name);
    expect(at("backbone.clip_vis_dense")).toBeGreaterThan(after("backbone"));
    expect(at("backbone.clip_vis_dense")).toBeLessThan(after("pixel_decoder"));
    expect(at("pixel_decoder.mask_features")).toBeLessThan(after("transformer_decoder"));
    expect(at("decoder.pred_logits")).toBeGreaterThan(after("transformer_decoder"));
    expect(at("oov.out_vocab_logits")).toBeGreaterThan(after("get_classification_logits"));
    expect(at("ens.mask_cls_results")).toBeGreaterThan(after("geometric_ensemble"));
    expect(at("ens.mask_cls_results")).toBeLessThan(after("inference"));
    const Q = shapes.get("decoder.pred_masks")![1]!;
    const K = f.vocab.classes.length;
    expect(shapes.get("decoder.pred_logits")).toEqual([1, Q, K + 1]);
    expect(shapes.get("oov.out_vocab_logits")).toEqual([1, Q, K]);
    expect(shapes.get("ens.mask_cls_results")).toEqual([1, Q, K + 1]);
    for (const name of [
      "input.images_tensor",
      "pixel_decoder.fpn_out.0",
      "decoder.class_embed.0",
      "oov.mask_for_pooling",
    ])
      expect(shapes.has(name), name).toBe(true);

    // Hooks change no result, and a run without them leaves no tensor behind.
    const before = e.memory().liveBytes;
    const plain = await f.model.segment(f.img, f.vocab, { seen: f.seen });
    expect(e.memory().liveBytes).toBe(before);
    expect(plain.semantic).toEqual(watched.semantic);
    expect(plain.panoptic).toEqual(watched.panoptic);
    expect(plain.instances).toEqual(watched.instances);
  });

  test("a failing hook leaves no tensor behind and the model usable", async () => {
    const before = e.memory().liveBytes;
    const boom = f.model.segment(f.img, f.vocab, {
      seen: f.seen,
      onTensor: (name) => {
        if (name === "decoder.pred_masks") throw new Error("hook failed");
      },
    });
    await expect(boom).rejects.toThrow("hook failed");
    expect(e.memory().liveBytes).toBe(before);
    const again = await f.model.segment(f.img, f.vocab, { seen: f.seen, tasks: ["semantic"] });
    expect(again.semantic).toBeDefined();
    expect(again.panoptic).toBeUndefined();
  });

  test("a seen mask of the wrong length is a ShapeError naming both lengths", async () => {
    await expect(f.model.segment(f.img, f.vocab, { seen: new Uint8Array(2) })).rejects.toThrow(
      /seen mask has 2 entries for \d+ classes/,
    );
  });
});
