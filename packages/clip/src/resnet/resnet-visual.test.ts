import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, openStateDict, ShapeError, type StateDict, type Tensor, toFloat32 } from "@fcclip/tensor-core";
import { ClipTextEncoder } from "@fcclip/text-encoder";
import { describe, expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { detectVisualFamily, loadVisualBackbone } from "../load-visual.js";
import { ResNetVisual } from "./resnet-visual.js";

// A tiny ResNet CLIP (width 6, layers [1, 2, 1, 1], 3-head attention pool on a 3×3 grid, float16 weights like
// OpenAI's) and its PyTorch outputs: fixtures/generate_resnet.py.
const FIXTURE = join(import.meta.dirname, "..", "..", "fixtures", "resnet_clip.safetensors");

describe("ResNet CLIP towers vs the PyTorch reference", async () => {
  const e = await testEngine();
  const weights: StateDict = await openStateDict(bytesSource(readFileSync(FIXTURE), "resnet_clip.safetensors"));
  const ref = async (key: string) => {
    const t = await weights.read(`ref.${key}`);
    return { shape: t.shape, data: toFloat32(t) };
  };
  const upload = async (key: string): Promise<Tensor> => {
    const t = await ref(key);
    return e.tensor(t.data, t.shape);
  };
  const visual = (await loadVisualBackbone(e, weights, "visual.")) as ResNetVisual;

  test("the weights are told apart from a ConvNeXt's, and the sizes read off them", () => {
    expect(detectVisualFamily(weights, "visual.")).toBe("resnet");
    expect(visual).toBeInstanceOf(ResNetVisual);
    expect(visual.shape).toEqual({ family: "resnet", dims: [24, 48, 96, 192], depths: [1, 2, 1, 1], embedDim: 40 });
    expect(visual.imageSize).toBe(96);
    expect(visual.attnpool.heads).toBe(3);
  });

  test("trunk: res2..res5 on a 72×104 image (floor-mode pooling: res5 is 2×3)", async () => {
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

  test("FC-CLIP's masked attention pool: one embedding per mask; an empty mask gives NaN, as upstream", async () => {
    const x = await upload("dense.input");
    const masks = await upload("dense.mask_logits");
    const f = visual.denseFeatures(x);
    const { embeddings, nonEmpty } = await visual.maskEmbeddings(f.clip_vis_dense, masks);
    const want = await ref("dense.pooled_clip_feature");
    // The masks with a positive pixel are exactly those PyTorch pools to a number.
    expect(Array.from(nonEmpty!)).toEqual(
      Array.from({ length: 7 }, (_, q) => (Number.isNaN(want.data[q * 40]!) ? 0 : 1)),
    );
    expect(embeddings.shape).toEqual([7, 40]);
    const got = (await embeddings.read()) as Float32Array;
    const row = (a: Float32Array, q: number) => a.subarray(q * 40, q * 40 + 40);
    for (let q = 0; q < 7; q++) {
      if (q === 3) {
        expect(row(got, q).every(Number.isNaN)).toBe(true);
        expect(row(want.data, q).every(Number.isNaN)).toBe(true);
      } else expectClose(row(got, q), { shape: [40], data: row(want.data, q) }, 1e-5, `mask ${q}`);
    }
    for (const t of [x, masks, f.res2, f.res3, f.res4, f.res5, embeddings]) t.dispose();
  });

  test("encode_image: the attention pool over the mean token and the native 3×3 grid", async () => {
    const x = await upload("image.input");
    const y = visual.encodeImage(x);
    expectClose(await y.read(), await ref("image.embedding"), 1e-5, "embedding");
    y.dispose();
    // Another size has no positional embedding: open_clip fails there too, so say which size is needed.
    const other = e.zeros([1, 3, 128, 96]);
    expect(() => visual.encodeImage(other)).toThrow(/an input of 96×96/);
    expect(() => visual.encodeImage(other)).toThrow(ShapeError);
    other.dispose();
    x.dispose();
  });

  test("text tower with OpenAI's quick_gelu", async () => {
    const text = await ClipTextEncoder.load(e, weights, "", {
      width: 128,
      layers: 1,
      heads: 2,
      activation: "quick_gelu",
    });
    const tokens = await weights.read("ref.text.tokens");
    const ids = new Int32Array(tokens.bytes.slice().buffer);
    const y = text.encodeTokens(ids, 3);
    expectClose(await y.read(), await ref("text.features"), 1e-5, "text features");
    // The same weights with exact GELU are measurably different: the activation is really applied.
    const gelu = await ClipTextEncoder.load(e, weights, "", { width: 128, layers: 1, heads: 2 });
    const z = gelu.encodeTokens(ids, 3);
    const a = (await y.read()) as Float32Array;
    const b = (await z.read()) as Float32Array;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeGreaterThan(1e-3);
    for (const t of [y, z]) t.dispose();
    text.dispose();
    gelu.dispose();
  });
});
