import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { testEngine } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { decodeImage } from "../image/decode.js";
import { preprocess, shortestEdgeSize } from "./preprocess.js";

const TINY = join(SHARED, "oracle", "tiny");

test("ResizeShortestEdge sizes (the spec's examples)", () => {
  expect(shortestEdgeSize(512, 683, 800, 1333)).toEqual([800, 1067]);
  expect(shortestEdgeSize(480, 640, 800, 1333)).toEqual([800, 1067]);
  expect(shortestEdgeSize(1024, 2048, 1024, 2560)).toEqual([1024, 2048]);
  expect(shortestEdgeSize(300, 451, 160, 288)).toEqual([160, 241]);
  expect(shortestEdgeSize(100, 1000, 800, 1333)).toEqual([133, 1333]);
});

describe.skipIf(!HAS_SHARED)(
  `FC-CLIP pre-processing vs the official input (${HAS_SHARED ? "oracle found" : NO_SHARED})`,
  () => {
    test("chelsea: the resize equals chelsea.resized.png bit for bit, the padded input equals images_tensor", async () => {
      const e = await testEngine();
      const img = decodeImage(readFileSync(join(TINY, "images", "chelsea.png")));
      const p = preprocess(e, img, { minSize: 160, maxSize: 288 });
      const ref = decodeImage(readFileSync(join(TINY, "images", "chelsea.resized.png")));
      expect([p.resized.width, p.resized.height]).toEqual([ref.width, ref.height]);
      let differing = 0;
      for (let i = 0; i < ref.data.length; i++) if (p.resized.data[i] !== ref.data[i]) differing++;
      expect(differing).toBe(0);
      expect(p.imageSize).toEqual([160, 241]);
      expect(p.originalSize).toEqual([300, 451]);
      const st = await SafetensorsFile.open(
        bytesSource(readFileSync(join(TINY, "runs", "chelsea", "image_level.safetensors"))),
      );
      const want = await st.read("input.images_tensor");
      expect(p.images.shape).toEqual(want.shape);
      expect(Array.from(await p.images.read())).toEqual(Array.from(toFloat32(want)));
      p.images.dispose();
    });
  },
);
