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

// A seeded tower (width 20 with 4 heads of 5, 3 layers, embedding 23, exact GELU) and its PyTorch features on rows of
// every length: fixtures/generate_text.py.
describe("CLIP text tower vs the PyTorch reference", async () => {
  const e = await testEngine();
  const weights = await openStateDict(
    bytesSource(readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "text_tower.safetensors"))),
  );
  const tokens = new Int32Array((await weights.read("ref.text.tokens")).bytes.slice().buffer);
  const want = toFloat32(await weights.read("ref.text.features"));
  const n = tokens.length / 77;

  test("rows ending at every position from 1 to 76, in one batch and in batches of 9", async () => {
    const enc = await ClipTextEncoder.load(e, weights, "", { width: 20, layers: 3, heads: 4 });
    expect(enc.embedDim).toBe(23);
    const all = enc.encodeTokens(tokens, n);
    expect(all.shape).toEqual([n, 23]);
    expectClose(await all.read(), want, 1e-5, "features");
    all.dispose();
    // Each batch runs up to its own longest row, so the batches below run different numbers of positions.
    const got = new Float32Array(n * 23);
    for (let start = 0; start < n; start += 9) {
      const rows = Math.min(9, n - start);
      const y = enc.encodeTokens(tokens.subarray(start * 77, (start + rows) * 77), rows);
      got.set(await y.read(), start * 23);
      y.dispose();
    }
    expectClose(got, want, 1e-5, "features in batches");
    enc.dispose();
  });

  test("the activation is really applied: the same weights with quick_gelu give other features", async () => {
    const enc = await ClipTextEncoder.load(e, weights, "", {
      width: 20,
      layers: 3,
      heads: 4,
      activation: "quick_gelu",
    });
    const y = enc.encodeTokens(tokens, n);
    const a = (await y.read()) as Float32Array;
    expect(Math.max(...a.map((v, i) => Math.abs(v - want[i]!)))).toBeGreaterThan(1e-3);
    y.dispose();
    enc.dispose();
  });
});
