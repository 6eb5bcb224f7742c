import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { loadResNetFixture, RESNET_META as meta } from "../testing/resnet-fixture.js";

// A tiny FC-CLIP on a ResNet CLIP, from the files a user has: the heads (safetensors) and the CLIP as a half-precision
// TorchScript archive like OpenAI's RN50.pt; references from fixtures/generate_resnet_fcclip.py.
describe("FC-CLIP with a ResNet CLIP vs the PyTorch reference", async () => {
  const e = await testEngine();

  test("heads + TorchScript CLIP → every stage, then panoptic, semantic and instance outputs", async () => {
    const { model, weights, vocab, store, img, seen, get } = await loadResNetFixture(e);
    const a = weights.architecture;
    expect(a.clip.family).toBe("resnet");
    expect(a.clip.dims).toEqual([16, 32, 64, 128]);
    expect(a.clip.depths).toEqual([1, 1, 2, 1]);
    expect(a.clip.textActivation).toBe("quick_gelu");
    expect(weights.files.map((f) => f.layout)).toEqual(["fcclip", "open_clip"]);
    expect(model.config.ensembleOnValidMask).toBe(true);

    // The reference's text classifier, handed over as a persisted one.
    const clf = await model.textClassifier(vocab, { store });
    expect(clf.source).toBe("store");

    const out = await model.segment(img, vocab, { seen, dump: true });
    const dumped = (k: string) => out.tensors!.get(k)!;

    for (const [ours, theirs, tol] of [
      ["backbone.res2", "res2", 1e-5],
      ["backbone.res3", "res3", 1e-5],
      ["backbone.res4", "res4", 1e-5],
      ["backbone.res5", "res5", 1e-5],
      ["pixel_decoder.mask_features", "mask_features", 1e-4],
      ["decoder.pred_masks", "pred_masks", 1e-4],
      ["oov.mask_for_pooling", "mask_for_pooling", 1e-4],
      ["decoder.pred_logits", "pred_logits", 1e-4],
      ["ens.mask_cls_results", "mask_cls_results", 1e-4],
    ] as const) {
      const want = await get(theirs);
      expect(dumped(ours).shape, ours).toEqual(want.shape);
      expectClose(dumped(ours).data, want, tol, ours);
    }

    // Masks that are empty at the CLIP resolution pool to NaN (as upstream) and are left out of the ensemble.
    const valid = (await get("valid_masking")).data;
    expect(valid.reduce((s, v) => s + v, 0)).toBe(meta.valid_queries);
    const pooled = dumped("oov.pooled_clip_feature");
    const wantPooled = await get("pooled_clip_feature");
    expect(pooled.shape).toEqual(wantPooled.shape);
    const E = pooled.shape[2]!;
    const outLogits = dumped("oov.out_vocab_logits").data;
    const wantOut = (await get("out_vocab_logits")).data;
    const K = meta.synonyms.length;
    valid.forEach((v, q) => {
      const row = pooled.data.subarray(q * E, (q + 1) * E);
      if (v === 0) {
        expect(Array.from(row).every(Number.isNaN), `query ${q}`).toBe(true);
        return;
      }
      expectClose(row, wantPooled.data.subarray(q * E, (q + 1) * E), 1e-4, `pooled ${q}`);
      expectClose(outLogits.subarray(q * K, (q + 1) * K), wantOut.subarray(q * K, (q + 1) * K), 1e-4, `logits ${q}`);
    });

    // Semantic argmax: equal wherever the reference's top two classes are not within 1e-4.
    const sem = (await get("semantic")).data;
    const margin = (await get("semantic_margin")).data;
    let unexplained = 0;
    for (let i = 0; i < sem.length; i++) if (out.semantic![i] !== sem[i] && margin[i]! >= 1e-4) unexplained++;
    expect(unexplained).toBe(0);

    // Panoptic ids pixel for pixel, and the segments.
    const pan = (await get("panoptic")).data;
    expect(Array.from(out.panoptic!.ids)).toEqual(Array.from(pan));
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
