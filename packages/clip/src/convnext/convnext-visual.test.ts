import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, type StateDict, type Tensor, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { detectVisualFamily, loadVisualBackbone } from "../load-visual.js";
import { ConvNeXtVisual } from "./convnext-visual.js";

// A tiny ConvNeXt CLIP image tower (widths 7, 14, 21, 35, depths [2, 1, 2, 1], embedding 19) with seeded weights, and
// its PyTorch outputs: fixtures/generate_convnext.py. The oracle comparisons are in trunk.test.ts.
const FIXTURE = join(import.meta.dirname, "..", "..", "fixtures", "convnext_clip.safetensors");

describe("ConvNeXt CLIP image tower vs the PyTorch reference", async () => {
  const e = await testEngine();
  const weights: StateDict = await openStateDict(bytesSource(readFileSync(FIXTURE), "convnext_clip.safetensors"));
  const ref = async (key: string) => {
    const t = await weights.read(`ref.${key}`);
    return { shape: t.shape, data: toFloat32(t) };
  };
  const upload = async (key: string): Promise<Tensor> => {
    const t = await ref(key);
    return e.tensor(t.data, t.shape);
  };
  const visual = (await loadVisualBackbone(e, weights, "visual.")) as ConvNeXtVisual;

  test("the weights are told apart from a ResNet's, and the sizes read off them", () => {
    expect(detectVisualFamily(weights, "visual.")).toBe("convnext");
    expect(visual).toBeInstanceOf(ConvNeXtVisual);
    expect(visual.shape).toEqual({ family: "convnext", dims: [7, 14, 21, 35], depths: [2, 1, 2, 1], embedDim: 19 });
  });

  test("trunk: res2..res5 on a 96×160 image (res5 3×5); clip_vis_dense is res5", async () => {
    const x = await upload("dense.input");
    const f = visual.denseFeatures(x);
    for (const k of ["res2", "res3", "res4", "res5"] as const) {
      const want = await ref(`dense.${k}`);
      expect(f[k].shape, k).toEqual(want.shape);
      expectClose(await f[k].read(), want, 1e-5, k);
    }
    expect(f.clip_vis_dense).toBe(f.res5);
    for (const t of [x, f.res2, f.res3, f.res4, f.res5]) t.dispose();
  });

  test("FC-CLIP's out-of-vocabulary embeddings: mask pooling, then the visual head (an empty mask pools to zeros)", async () => {
    const res5 = await upload("dense.res5");
    const masks = await upload("dense.mask_logits");
    const { pooled, embeddings, nonEmpty } = await visual.maskEmbeddings(res5, masks);
    // ConvNeXt never reads the masks back: ENSEMBLE_ON_VALID_MASK is off for it.
    expect(nonEmpty).toBeUndefined();
    const wantPooled = await ref("dense.mask_pooled");
    expect(pooled!.shape).toEqual([6, 35]);
    const got = (await pooled!.read()) as Float32Array;
    expectClose(got, wantPooled, 1e-5, "mask_pooled");
    expect(got.subarray(2 * 35, 3 * 35).every((v) => v === 0)).toBe(true);
    expect(embeddings.shape).toEqual([6, 19]);
    expectClose(await embeddings.read(), await ref("dense.embeddings"), 1e-5, "embeddings");
    for (const t of [res5, masks, pooled!, embeddings]) t.dispose();
  });

  test("encode_image: global average pool of res5, then the head, for a batch of two 64×64 images", async () => {
    const x = await upload("image.input");
    const y = visual.encodeImage(x);
    expect(y.shape).toEqual([2, 19]);
    expectClose(await y.read(), await ref("image.embedding"), 1e-5, "embedding");
    for (const t of [x, y]) t.dispose();
  });
});
