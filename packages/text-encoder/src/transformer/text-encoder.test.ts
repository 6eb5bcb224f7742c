import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { ClipTextEncoder } from "./text-encoder.js";

const TINY = join(SHARED, "oracle", "tiny");

describe.skipIf(!HAS_SHARED)(
  `CLIP text tower vs the official prompt features (${HAS_SHARED ? "oracle found" : NO_SHARED})`,
  async () => {
    const e = await testEngine();

    test("all 3,556 COCO prompts, in batches of 128, equal text.prompt_features", async () => {
      const weights = await openStateDict(bytesSource(readFileSync(join(TINY, "model", "open_clip_tiny.safetensors"))));
      const enc = await ClipTextEncoder.load(e, weights, "", { width: 16, layers: 2, heads: 4 });
      const st = await SafetensorsFile.open(
        bytesSource(readFileSync(join(TINY, "vocab", "coco_panoptic.tensors.safetensors"))),
      );
      const tokens = new Int32Array((await st.read("text.tokens")).bytes.slice().buffer);
      const want = await st.read("text.prompt_features");
      const n = want.shape[0]!;
      const got = new Float32Array(n * enc.embedDim);
      for (let start = 0; start < n; start += 128) {
        const rows = Math.min(128, n - start);
        const y = enc.encodeTokens(tokens.subarray(start * 77, (start + rows) * 77), rows);
        got.set(await y.read(), start * enc.embedDim);
        y.dispose();
      }
      expect(enc.embedDim).toBe(want.shape[1]);
      expectClose(got, toFloat32(want), 1e-4, "prompt_features");
      enc.dispose();
    });

    test("a row's features do not depend on the other rows' lengths (causal truncation is exact)", async () => {
      const weights = await openStateDict(bytesSource(readFileSync(join(TINY, "model", "open_clip_tiny.safetensors"))));
      const enc = await ClipTextEncoder.load(e, weights, "", { width: 16, layers: 2, heads: 4 });
      const short = new Int32Array(77);
      short.set([49406, 320, 49407]);
      const long = new Int32Array(77);
      long.set([49406, ...Array(30).fill(320), 49407]);
      const alone = await enc.encodeTokens(short, 1).read();
      const both = new Int32Array(154);
      both.set(short);
      both.set(long, 77);
      const batched = await enc.encodeTokens(both, 2).read();
      expectClose(batched.subarray(0, alone.length), alone, 1e-6, "short row");
      enc.dispose();
    });
  },
);
