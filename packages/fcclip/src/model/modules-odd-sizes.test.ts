import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConvNeXtTrunk } from "@fcclip/clip";
import { FcclipTransformerDecoder, MSDeformAttnPixelDecoder } from "@fcclip/mask2former";
import { bytesSource, type Engine, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { loadFcclipWeights } from "../weights/load.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");

/**
 * The fixture tensors of generate_modules.py, the seeded weights of generate_convnext_fcclip.py they were computed with,
 * and its ConvNeXt trunk on engine `e`.
 */
async function tinySetup(e: Engine) {
  const st = await SafetensorsFile.open(bytesSource(readFileSync(join(FIXTURES, "modules.safetensors"))));
  const ref = async (k: string) => {
    const t = await st.read(k);
    return { shape: t.shape, data: toFloat32(t) };
  };
  const weights = await loadFcclipWeights(
    ["convnext_fcclip_heads.pth", "convnext_clip_tiny.bin"].map((f) => bytesSource(readFileSync(join(FIXTURES, f)), f)),
    { heads: 4, textHeads: 4 },
  );
  const { dims, depths } = weights.architecture.clip;
  expect(dims).toEqual([13, 18, 27, 45]);
  const trunk = await ConvNeXtTrunk.load(e, weights, "backbone.clip_model.visual.trunk.", { dims, depths });
  return { ref, weights, trunk };
}

describe("modules at odd sizes vs a PyTorch re-implementation", () => {
  test("96×224 input (res5 3×7): trunk, pixel decoder and decoder equal fixtures/generate_modules.py", async () => {
    const e = await testEngine();
    const meta = JSON.parse(readFileSync(join(FIXTURES, "modules.json"), "utf8")) as { num_templates: number[] };
    const { ref, weights, trunk } = await tinySetup(e);
    const pd = await MSDeformAttnPixelDecoder.load(e, weights, "sem_seg_head.pixel_decoder.", {
      heads: 4,
      points: 4,
      encoderLayers: 2,
    });
    const dec = await FcclipTransformerDecoder.load(e, weights, "sem_seg_head.predictor.", { heads: 4, layers: 3 });
    await weights.close();
    const input = await ref("input");
    const feats = trunk.forward(e.tensor(input.data, input.shape));
    for (const k of ["res2", "res3", "res4", "res5"] as const)
      expectClose(await feats[k].read(), await ref(k), 1e-5, k);
    const out = pd.forward(feats);
    expectClose(await out.mask_features.read(), await ref("mask_features"), 1e-5, "mask_features");
    for (let l = 0; l < 3; l++)
      expectClose(await out.multi_scale_features[l]!.read(), await ref(`ms${l}`), 1e-5, `ms${l}`);
    const clf = await ref("classifier");
    const d = await dec.forward(out.multi_scale_features, out.mask_features, {
      embeddings: e.tensor(clf.data, clf.shape),
      synonymsPerClass: meta.num_templates,
    });
    expect(d.pred_masks.shape).toEqual([1, 13, 24, 56]);
    expectClose(await d.pred_masks.read(), await ref("pred_masks"), 1e-5, "pred_masks");
    expectClose(d.pred_logits, await ref("pred_logits"), 1e-5, "pred_logits");
    trunk.dispose();
    pd.dispose();
    dec.dispose();
  });

  test("the trunk under a 256 KB binding limit: the MLP's hidden map takes the M- and K-split matmuls", async () => {
    // At 800×1216 ConvNeXt-L's stage-1 hidden map (768 × 60800 floats, 187 MB) is over lavapipe's 128 MiB: fc1
    // writes it in row windows and fc2 reads it in K slices. Here 52 × 1344 floats (279 KB) over 256 KB do the same.
    const limit = 256 * 1024;
    const e = await testEngine({ maxBindingBytes: limit });
    const { ref, weights, trunk } = await tinySetup(e);
    await weights.close();
    const input = await ref("input");
    const feats = trunk.forward(e.tensor(input.data, input.shape));
    expect(4 * feats.res2.shape[1]! * feats.res2.shape[2]! * feats.res2.shape[3]! * 4).toBeGreaterThan(limit);
    for (const k of ["res2", "res3", "res4", "res5"] as const)
      expectClose(await feats[k].read(), await ref(k), 1e-5, `${k} (split)`);
    trunk.dispose();
  });
});
