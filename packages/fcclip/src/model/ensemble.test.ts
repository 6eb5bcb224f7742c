import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { geometricEnsemble } from "./ensemble.js";

describe.skipIf(!HAS_SHARED)(`geometric ensemble (${HAS_SHARED ? "oracle found" : NO_SHARED})`, () => {
  test("every ensemble step equals the official ens.* tensors", async () => {
    const st = await SafetensorsFile.open(
      bytesSource(
        readFileSync(join(SHARED, "oracle", "tiny", "runs", "chelsea", "coco_panoptic", "tensors.safetensors")),
      ),
    );
    const get = async (k: string) => toFloat32(await st.read(k));
    const logits = await get("decoder.pred_logits");
    const inLogits = logits.subarray((3 * logits.length) / 4);
    const seen = Uint8Array.from(await get("ens.category_overlapping_mask"));
    const out = geometricEnsemble({
      inLogits,
      outLogits: await get("oov.out_vocab_logits"),
      queries: 25,
      seen,
      alpha: 0.4,
      beta: 0.8,
    });
    expectClose(out.inProbs, await get("ens.in_vocab_probs"), 1e-5, "in_vocab_probs");
    expectClose(out.outProbs, await get("oov.out_vocab_probs"), 1e-5, "out_vocab_probs");
    expectClose(out.clsResults, await get("ens.cls_results"), 1e-5, "cls_results");
    expectClose(out.isVoidProb, await get("ens.is_void_prob"), 1e-5, "is_void_prob");
    expectClose(out.maskClsProbs, await get("ens.mask_cls_probs"), 1e-5, "mask_cls_probs");
    expectClose(out.maskClsResults, await get("ens.mask_cls_results"), 1e-5, "mask_cls_results");
    expect(seen.every((s) => s === 1)).toBe(true);
  });
});

// The decoder's and the out-of-vocabulary classifier's logits of the tiny ConvNeXt FC-CLIP (13 queries, 6 classes, 3
// seen) and PyTorch's ensemble steps on them: fixtures/generate_convnext_fcclip.py.
describe("geometric ensemble vs the PyTorch reference", () => {
  test("every step, and ENSEMBLE_ON_VALID_MASK (11 of 13 masks non-empty at the CLIP resolution)", async () => {
    const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");
    const meta = JSON.parse(readFileSync(join(FIXTURES, "convnext_fcclip_ref.json"), "utf8")) as {
      seen: number[];
      valid_queries: number;
    };
    const st = await SafetensorsFile.open(bytesSource(readFileSync(join(FIXTURES, "convnext_fcclip_ref.safetensors"))));
    const get = async (k: string) => toFloat32(await st.read(`ref.${k}`));
    const input = {
      inLogits: await get("pred_logits"),
      outLogits: await get("out_vocab_logits"),
      queries: 13,
      seen: Uint8Array.from(meta.seen),
      alpha: 0.4,
      beta: 0.8,
    };
    const out = geometricEnsemble(input);
    expectClose(out.inProbs, await get("ens.in_vocab_probs"), 1e-5, "in_vocab_probs");
    expectClose(out.outProbs, await get("oov.out_vocab_probs"), 1e-5, "out_vocab_probs");
    expectClose(out.clsResults, await get("ens.cls_results"), 1e-5, "cls_results");
    expectClose(out.isVoidProb, await get("ens.is_void_prob"), 1e-5, "is_void_prob");
    expectClose(out.maskClsProbs, await get("ens.mask_cls_probs"), 1e-5, "mask_cls_probs");
    expectClose(out.maskClsResults, await get("mask_cls_results"), 1e-5, "mask_cls_results");

    const valid = Uint8Array.from(await get("valid_masking"));
    expect(valid.reduce((s, v) => s + v, 0)).toBe(meta.valid_queries);
    const withValid = geometricEnsemble({ ...input, valid });
    expectClose(withValid.maskClsResults, await get("mask_cls_results_valid"), 1e-5, "mask_cls_results (valid)");
    // Only the empty masks' rows change: they drop the out-of-vocabulary term.
    const K1 = meta.seen.length + 1;
    valid.forEach((v, q) => {
      const row = (a: Float32Array) => Array.from(a.subarray(q * K1, (q + 1) * K1));
      if (v) expect(row(withValid.maskClsResults), `query ${q}`).toEqual(row(out.maskClsResults));
      else expect(row(withValid.maskClsResults), `query ${q}`).not.toEqual(row(out.maskClsResults));
    });
  });
});
