import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, SafetensorsFile, type Tensor, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { MSDeformAttnPixelDecoder } from "./pixel-decoder.js";

const TINY = join(SHARED, "oracle", "tiny");

describe.skipIf(!HAS_SHARED)(
  `MSDeformAttn pixel decoder vs the official outputs (${HAS_SHARED ? "oracle found" : NO_SHARED})`,
  () => {
    test("chelsea: input projections, each encoder layer, fpn_out, mask_features, multi-scale features", async () => {
      const e = await testEngine();
      const st = await SafetensorsFile.open(
        bytesSource(readFileSync(join(TINY, "runs", "chelsea", "image_level.safetensors"))),
      );
      const read = async (k: string) => {
        const t = await st.read(k);
        return { shape: t.shape, data: toFloat32(t) };
      };
      const up = async (k: string) => {
        const t = await read(k);
        return e.tensor(t.data, t.shape);
      };
      const weights = await openStateDict(bytesSource(readFileSync(join(TINY, "model", "fcclip_tiny.safetensors"))));
      const pd = await MSDeformAttnPixelDecoder.load(e, weights, "sem_seg_head.pixel_decoder.", {
        heads: 4,
        points: 4,
        encoderLayers: 2,
      });
      const feats = {
        res2: await up("backbone.res2"),
        res3: await up("backbone.res3"),
        res4: await up("backbone.res4"),
        res5: await up("backbone.res5"),
      };
      const out = pd.forward(feats, { intermediates: true });
      const check = async (
        t: { shape: readonly number[]; read(): Promise<Float32Array | Int32Array | Uint32Array> },
        key: string,
        tol: number,
      ) => {
        const want = await read(key);
        expect(t.shape, key).toEqual(want.shape);
        expectClose(await t.read(), want, tol, key);
      };
      for (let l = 0; l < 3; l++) await check(out.intermediates!.input_proj[l]!, `pixel_decoder.input_proj.${l}`, 1e-4);
      for (let i = 0; i < 2; i++)
        await check(out.intermediates!.encoder_layers[i]!, `pixel_decoder.encoder.layers.${i}`, 1e-4);
      await check(out.intermediates!.fpn_out, "pixel_decoder.fpn_out.0", 1e-4);
      await check(out.mask_features, "pixel_decoder.mask_features", 1e-4);
      for (let l = 0; l < 3; l++)
        await check(out.multi_scale_features[l]!, `pixel_decoder.multi_scale_features.${l}`, 1e-4);
      pd.dispose();
    });
  },
);

// Seeded heads at odd sizes (features of 7, 11, 13, 17 channels at 14×22 … 2×3, 8 heads of 4) and their PyTorch
// intermediates: fixtures/generate_heads.py.
describe("MSDeformAttn pixel decoder vs the PyTorch reference", () => {
  test("input projections, each encoder layer, fpn_out, mask_features, multi-scale features", async () => {
    const e = await testEngine();
    const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");
    const meta = JSON.parse(readFileSync(join(FIXTURES, "heads.json"), "utf8")) as {
      heads: number;
      points: number;
      encoder_layers: number;
    };
    const st = await openStateDict(bytesSource(readFileSync(join(FIXTURES, "heads.safetensors"))));
    const ref = async (k: string) => {
      const t = await st.read(`ref.${k}`);
      return { shape: t.shape, data: toFloat32(t) };
    };
    const up = async (k: string) => {
      const t = await ref(k);
      return e.tensor(t.data, t.shape);
    };
    const pd = await MSDeformAttnPixelDecoder.load(e, st, "sem_seg_head.pixel_decoder.", {
      heads: meta.heads,
      points: meta.points,
      encoderLayers: meta.encoder_layers,
    });
    const feats = { res2: await up("res2"), res3: await up("res3"), res4: await up("res4"), res5: await up("res5") };
    const out = pd.forward(feats, { intermediates: true });
    const check = async (t: Tensor, key: string) => {
      const want = await ref(`pixel_decoder.${key}`);
      expect(t.shape, key).toEqual(want.shape);
      expectClose(await t.read(), want, 1e-5, key);
    };
    const inter = out.intermediates!;
    for (let l = 0; l < 3; l++) await check(inter.input_proj[l]!, `input_proj.${l}`);
    expect(inter.encoder_layers).toHaveLength(meta.encoder_layers);
    for (let i = 0; i < meta.encoder_layers; i++) await check(inter.encoder_layers[i]!, `encoder.layers.${i}`);
    await check(inter.fpn_out, "fpn_out.0");
    await check(out.mask_features, "mask_features");
    for (let l = 0; l < 3; l++) await check(out.multi_scale_features[l]!, `multi_scale_features.${l}`);
    for (const t of [
      ...Object.values(feats),
      out.mask_features,
      ...out.multi_scale_features,
      ...inter.input_proj,
      ...inter.encoder_layers,
      inter.fpn_out,
    ])
      t.dispose();
    pd.dispose();
  });
});
