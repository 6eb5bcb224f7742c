import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  bytesSource,
  interpolate,
  maskPooling,
  openStateDict,
  SafetensorsFile,
  type StateDict,
  toFloat32,
} from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { ConvNeXtVisual } from "./convnext-visual.js";
import { ConvNeXtTrunk } from "./trunk.js";
import { ClipVisualHead } from "./visual-head.js";

const TINY = join(SHARED, "oracle", "tiny");

async function oracle(file: string) {
  const st = await SafetensorsFile.open(bytesSource(readFileSync(join(TINY, file)), file));
  return async (key: string) => {
    const t = await st.read(key);
    return { shape: t.shape, data: toFloat32(t) };
  };
}

describe.skipIf(!HAS_SHARED)(
  `ConvNeXt CLIP visual tower vs the official outputs (${HAS_SHARED ? "oracle found" : NO_SHARED})`,
  async () => {
    const e = await testEngine();
    const weights: StateDict | null = HAS_SHARED
      ? await openStateDict(
          bytesSource(readFileSync(join(TINY, "model", "open_clip_tiny.safetensors")), "open_clip_tiny.safetensors"),
        )
      : null;

    test("trunk: res2..res5 and clip_vis_dense of chelsea (max error ≤ 1e-4 of each tensor's max, the oracle's bound)", async () => {
      const image = await oracle("runs/chelsea/image_level.safetensors");
      const trunk = await ConvNeXtTrunk.load(e, weights!, "visual.trunk.", {
        dims: [32, 64, 96, 128],
        depths: [1, 1, 2, 1],
      });
      const input = await image("input.images_tensor");
      const x = e.tensor(input.data, input.shape);
      const f = trunk.forward(x);
      for (const name of ["res2", "res3", "res4", "res5", "clip_vis_dense"] as const) {
        const want = await image(`backbone.${name}`);
        expect(f[name].shape, name).toEqual(want.shape);
        expectClose(await f[name].read(), want, 1e-4, name);
      }
      for (const t of [x, f.res2, f.res3, f.res4, f.res5]) t.dispose();
      trunk.dispose();
    });

    test("out-of-vocabulary path: mask resize, mask pooling of clip_vis_dense, visual head = the official oov.*", async () => {
      const run = await oracle("runs/chelsea/image_level.safetensors");
      const masks = await run("decoder.pred_masks");
      const [L1, , Q, H, W] = masks.shape as [number, number, number, number, number];
      const final = e.tensor(masks.data.subarray((L1 - 1) * Q * H * W), [1, Q, H, W]);
      const dense = await run("backbone.clip_vis_dense");
      const resized = interpolate(final, { size: [dense.shape[2]!, dense.shape[3]!] });
      expectClose(await resized.read(), await run("oov.mask_for_pooling"), 1e-5, "mask_for_pooling");
      const pooledGpu = maskPooling(e.tensor(dense.data, dense.shape), resized);
      expectClose(await pooledGpu.read(), await run("oov.mask_pooled_clip_feature"), 1e-5, "mask_pooled_clip_feature");
      const head = await ClipVisualHead.load(e, weights!, "visual.");
      const pooled = await run("oov.mask_pooled_clip_feature");
      const y = e.scope(() => head.forward(e.tensor(pooled.data, pooled.shape)));
      const want = await run("oov.pooled_clip_feature");
      expect(y.shape).toEqual(want.shape);
      expectClose(await y.read(), want, 1e-4, "pooled_clip_feature");
      y.dispose();
      head.dispose();
    });
  },
);

describe.skipIf(!HAS_SHARED)(`ConvNeXtVisual.encodeImage (${HAS_SHARED ? "oracle found" : NO_SHARED})`, async () => {
  const e = await testEngine();
  test("= the visual head applied to the spatial mean of the official res5", async () => {
    const image = await oracle("runs/chelsea/image_level.safetensors");
    const weights = await openStateDict(bytesSource(readFileSync(join(TINY, "model", "open_clip_tiny.safetensors"))));
    const visual = await ConvNeXtVisual.load(e, weights);
    expect(visual.trunk.shape).toEqual({ dims: [32, 64, 96, 128], depths: [1, 1, 2, 1] });
    const input = await image("input.images_tensor");
    const res5 = await image("backbone.res5");
    const [, C, H, W] = res5.shape as [number, number, number, number];
    const pooled = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let i = 0; i < H * W; i++) s += res5.data[c * H * W + i]!;
      pooled[c] = s / (H * W);
    }
    const want = e.scope(() => visual.head.forward(e.tensor(pooled, [1, C])));
    const got = e.scope(() => visual.encodeImage(e.tensor(input.data, input.shape)));
    expectClose(await got.read(), await want.read(), 1e-4, "image embedding");
    visual.dispose();
  });
});
