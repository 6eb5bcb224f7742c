import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
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
