import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytesSource, SafetensorsFile, ShapeError, toFloat32 } from "@fcclip/tensor-core";
import { expect, test } from "vitest";
import { expectClose, testEngine } from "../../../tensor-core/src/testing/harness.js";
import { clipPreprocess } from "./clip-preprocess.js";
import { resizePillow } from "./pillow-resize.js";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures");

test("resizePillow equals PIL.Image.resize bit for bit (bilinear and bicubic, up, down, one axis)", async () => {
  const meta = JSON.parse(readFileSync(join(DIR, "resize.json"), "utf8")) as {
    cases: { name: string; width: number; height: number; filter: "bilinear" | "bicubic" }[];
  };
  const st = await SafetensorsFile.open(bytesSource(readFileSync(join(DIR, "resize.safetensors"))));
  const src = await st.read("src");
  const img = { width: src.shape[1]!, height: src.shape[0]!, data: src.bytes };
  for (const c of meta.cases) {
    const out = resizePillow(img, c.width, c.height, c.filter);
    const want = await st.read(c.name);
    expect([out.height, out.width], c.name).toEqual(want.shape.slice(0, 2));
    let diff = 0;
    for (let i = 0; i < want.bytes.length; i++) if (out.data[i] !== want.bytes[i]) diff++;
    expect(diff, `${c.name}: pixels differing from Pillow`).toBe(0);
  }
  expect(() => resizePillow(img, 0, 3, "bilinear")).toThrow(ShapeError);
});

test("clipPreprocess equals Pillow bicubic + center crop + CLIP normalisation computed with NumPy", async () => {
  const st = await SafetensorsFile.open(bytesSource(readFileSync(join(DIR, "resize.safetensors"))));
  const src = await st.read("src");
  const img = { width: src.shape[1]!, height: src.shape[0]!, data: src.bytes };
  const e = await testEngine();
  const x = clipPreprocess(e, img, 32);
  const want = await st.read("clip_preprocess_32");
  expect(x.shape).toEqual(want.shape);
  expectClose(await x.read(), toFloat32(want), 1e-6, "preprocessed");
  x.dispose();
});
