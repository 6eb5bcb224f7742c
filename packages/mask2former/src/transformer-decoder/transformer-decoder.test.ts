import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { FcclipTransformerDecoder } from "./transformer-decoder.js";

const TINY = join(SHARED, "oracle", "tiny");

async function tensors(file: string) {
  const st = await SafetensorsFile.open(bytesSource(readFileSync(join(TINY, file))));
  return async (k: string) => {
    const t = await st.read(k);
    return { shape: t.shape, data: toFloat32(t) };
  };
}

describe.skipIf(!HAS_SHARED)(
  `FC-CLIP transformer decoder vs the official outputs (${HAS_SHARED ? "oracle found" : NO_SHARED})`,
  () => {
    test("every prediction's masks, query norms, pooled projections, class embeddings, and the final pred_logits", async () => {
      const e = await testEngine();
      const image = await tensors("runs/chelsea/image_level.safetensors");
      const run = await tensors("runs/chelsea/coco_panoptic/tensors.safetensors");
      const vocab = await tensors("vocab/coco_panoptic.tensors.safetensors");
      const meta = JSON.parse(readFileSync(join(TINY, "vocab", "coco_panoptic.json"), "utf8")) as {
        num_templates: number[];
      };
      const up = async (get: typeof image, k: string) => {
        const t = await get(k);
        return e.tensor(t.data, t.shape);
      };
      const weights = await openStateDict(bytesSource(readFileSync(join(TINY, "model", "fcclip_tiny.safetensors"))));
      const dec = await FcclipTransformerDecoder.load(e, weights, "sem_seg_head.predictor.", { heads: 4, layers: 3 });
      const ms = [
        await up(image, "pixel_decoder.multi_scale_features.0"),
        await up(image, "pixel_decoder.multi_scale_features.1"),
        await up(image, "pixel_decoder.multi_scale_features.2"),
      ] as const;
      const out = await dec.forward(
        ms,
        await up(image, "pixel_decoder.mask_features"),
        {
          embeddings: await up(vocab, "text.classifier"),
          synonymsPerClass: meta.num_templates,
        },
        { intermediates: true },
      );
      const stacked = async (key: string, list: { read(): Promise<unknown> }[]) => {
        const want = await image(key);
        const per = want.data.length / list.length;
        for (let i = 0; i < list.length; i++) {
          expectClose(
            (await list[i]!.read()) as Float32Array,
            want.data.subarray(i * per, (i + 1) * per),
            1e-3,
            `${key}[${i}]`,
          );
        }
      };
      const inter = out.intermediates!;
      expect(inter.pred_masks).toHaveLength(4);
      await stacked("decoder.query_norm", inter.query_norm);
      await stacked("decoder.pred_masks", inter.pred_masks);
      await stacked("decoder.mask_pooling_proj", inter.mask_pooling_proj);
      await stacked("decoder.class_embed", inter.class_embed);
      const logits = await run("decoder.pred_logits");
      expectClose(out.pred_logits, logits.data.subarray((3 * logits.data.length) / 4), 1e-3, "pred_logits");
      dec.dispose();
    });
  },
);

// Seeded heads at odd sizes (4 layers, so the levels wrap around; 9 queries; 8 heads of 4; 4 classes with 1–3
// synonyms) and their PyTorch intermediates on the reference's own pixel-decoder outputs: fixtures/generate_heads.py.
describe("FC-CLIP transformer decoder vs the PyTorch reference", () => {
  test("every prediction's masks, query norms, pooled projections, class embeddings, and the final pred_logits", async () => {
    const e = await testEngine();
    const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");
    const meta = JSON.parse(readFileSync(join(FIXTURES, "heads.json"), "utf8")) as {
      heads: number;
      decoder_layers: number;
      synonyms: number[];
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
    const dec = await FcclipTransformerDecoder.load(e, st, "sem_seg_head.predictor.", {
      heads: meta.heads,
      layers: meta.decoder_layers,
    });
    const ms = [
      await up("pixel_decoder.multi_scale_features.0"),
      await up("pixel_decoder.multi_scale_features.1"),
      await up("pixel_decoder.multi_scale_features.2"),
    ] as const;
    const maskFeatures = await up("pixel_decoder.mask_features");
    const embeddings = await up("classifier");
    const out = await dec.forward(
      ms,
      maskFeatures,
      { embeddings, synonymsPerClass: meta.synonyms },
      { intermediates: true },
    );
    const inter = out.intermediates!;
    for (const [part, list] of Object.entries(inter)) {
      expect(list, part).toHaveLength(meta.decoder_layers + 1);
      for (const [n, t] of list.entries()) {
        const want = await ref(`decoder.${part}.${n}`);
        expect(t.shape.slice(-2), `${part}.${n}`).toEqual(want.shape.slice(-2));
        expectClose(await t.read(), want, 1e-5, `${part}.${n}`);
      }
    }
    expect(out.pred_masks.shape).toEqual([1, 9, 14, 22]);
    expectClose(
      await out.pred_masks.read(),
      await ref(`decoder.pred_masks.${meta.decoder_layers}`),
      1e-5,
      "pred_masks",
    );
    expectClose(out.pred_logits, await ref("decoder.pred_logits"), 1e-5, "pred_logits");
    for (const t of [...ms, maskFeatures, embeddings, out.pred_masks, ...Object.values(inter).flat()]) t.dispose();
    dec.dispose();
  });
});
