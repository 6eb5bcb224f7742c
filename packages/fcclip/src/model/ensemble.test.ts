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
