import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ByteSource, blobSource, fileSource, safetensorsChunks, toFloat32 } from "@fcclip/tensor-core";
import { afterAll, describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { run } from "../cli/main.js";
import { bundleChunks, bundleConfig } from "./bundle.js";
import { WeightsMismatchError } from "./errors.js";
import { type FcclipWeights, loadFcclipWeights } from "./load.js";

const MODEL = join(SHARED, "oracle", "tiny", "model");
const TINY = { heads: 4, textHeads: 4 };
const opened: ByteSource[] = [];
const open = async (...names: string[]) => {
  const srcs = await Promise.all(names.map((n) => fileSource(join(MODEL, n))));
  opened.push(...srcs);
  return srcs;
};
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close?.()));
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

async function bytesOf(w: FcclipWeights): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const k of w.keys()) out.set(k, toFloat32(await w.read(k)));
  return out;
}

async function collect(gen: AsyncGenerator<Uint8Array>): Promise<Blob> {
  const parts: Uint8Array[] = [];
  for await (const c of gen) parts.push(c);
  return new Blob(parts as BlobPart[]);
}

describe.skipIf(!HAS_SHARED)(
  `FC-CLIP weights in every layout users bring (${HAS_SHARED ? "oracle found" : NO_SHARED})`,
  async () => {
    const reference = HAS_SHARED
      ? await bytesOf(await loadFcclipWeights(await open("fcclip_tiny.pth"), TINY))
      : new Map();

    for (const files of [
      ["fcclip_tiny.safetensors"],
      ["fcclip_tiny_head.pth", "open_clip_tiny.bin"],
      ["open_clip_tiny.safetensors", "fcclip_tiny_head.pth"],
    ]) {
      test(`${files.join(" + ")} gives exactly the tensors of fcclip_tiny.pth`, async () => {
        const w = await loadFcclipWeights(await open(...files), TINY);
        const got = await bytesOf(w);
        expect([...got.keys()].sort()).toEqual([...reference.keys()].sort());
        for (const [k, v] of reference) expect(got.get(k), k).toEqual(v);
        expect(w.files.map((f) => f.layout)).toEqual(
          files.map((f) =>
            f.startsWith("open_clip") ? "open_clip" : f.includes("head") ? "fcclip" : "fcclip-with-clip",
          ),
        );
      });
    }

    test("the heads checkpoint alone says the open_clip weights are needed", async () => {
      const err = await rejection(loadFcclipWeights(await open("fcclip_tiny_head.pth"), TINY));
      expect(err).toBeInstanceOf(WeightsMismatchError);
      expect(String(err)).toMatch(/open_clip_pytorch_model\.bin/);
    });

    test("CLIP weights alone are not an FC-CLIP model", async () => {
      const err = await rejection(loadFcclipWeights(await open("open_clip_tiny.bin"), TINY));
      expect(String(err)).toMatch(/no FC-CLIP checkpoint/);
    });

    test("a head count that contradicts the weights is reported with a hint", async () => {
      const err = await rejection(loadFcclipWeights(await open("fcclip_tiny.pth"), { heads: 8, textHeads: 4 }));
      expect(err).toBeInstanceOf(WeightsMismatchError);
      expect((err as WeightsMismatchError).misshaped.length).toBe(8); // offsets and weights, weight and bias, 2 layers
      expect(String(err)).toMatch(/NHEADS/);
    });

    test("a checkpoint missing keys lists them", async () => {
      const [src] = await open("fcclip_tiny.safetensors");
      const full = await loadFcclipWeights([src!], TINY);
      const drop = "sem_seg_head.predictor.decoder_norm.bias";
      const chunks = safetensorsChunks(
        full
          .keys()
          .filter((k) => k !== drop)
          .map((name) => ({ ...full.info(name), name, bytes: async () => (await full.read(name)).bytes })),
      );
      const err = await rejection(loadFcclipWeights([blobSource(await collect(chunks), "dropped.safetensors")], TINY));
      expect((err as WeightsMismatchError).missing).toEqual([drop]);
    });

    test("a bundle reloads to the same tensors; f16 storage rounds the CLIP matrices only", async () => {
      for (const f16 of [false, true]) {
        const w = await loadFcclipWeights(await open("fcclip_tiny_head.pth", "open_clip_tiny.bin"), TINY);
        const cfg = bundleConfig(w, "tiny.safetensors", { f16 });
        const blob = await collect(bundleChunks(w, cfg, { f16 }));
        const again = await loadFcclipWeights([blobSource(blob, "bundle.safetensors")], TINY);
        expect(again.architecture).toEqual(cfg.architecture);
        // The bundle records its head counts: no config is needed, and config defaults do not override them.
        for (const given of [{}, { heads: 8 }]) {
          const alone = await loadFcclipWeights([blobSource(blob, "bundle.safetensors")], given);
          expect(alone.architecture).toEqual(cfg.architecture);
        }
        for (const [k, ref] of reference) {
          const { dtype, shape } = again.info(k);
          const got = toFloat32(await again.read(k));
          if (!f16 || shape.length < 2 || !k.startsWith("backbone.")) {
            expect(dtype, k).toBe("F32");
            expect(got, k).toEqual(ref);
          } else {
            expect(dtype, k).toBe("F16");
            ref.forEach((v: number, i: number) => {
              if (Math.abs(got[i]! - v) > Math.abs(v) * 2 ** -11 + 2 ** -24)
                throw new Error(`${k}[${i}]: ${got[i]} vs ${v}`);
            });
          }
        }
      }
    });

    test("fcclip convert writes the bundle; failures print one line and leave no files", async () => {
      const dir = mkdtempSync(join(tmpdir(), "fcclip-convert-"));
      const lines: string[] = [];
      const log = (s: string) => lines.push(s);
      const base = ["convert", "--weights", join(MODEL, "fcclip_tiny_head.pth"), "--output", join(dir, "tiny")];
      const clip = [
        "--clip-weights",
        join(MODEL, "open_clip_tiny.bin"),
        "--clip-config",
        join(MODEL, "convnext_oracle_tiny_clip.json"),
      ];
      expect(await run([...base, ...clip, "--opts", "MODEL.MASK_FORMER.NHEADS", "4"], log)).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(["tiny.json", "tiny.safetensors"]);
      const src = await fileSource(join(dir, "tiny.safetensors"));
      opened.push(src);
      expect((await bytesOf(await loadFcclipWeights([src], TINY))).get("void_embedding.weight")).toEqual(
        reference.get("void_embedding.weight"),
      );

      const dir2 = mkdtempSync(join(tmpdir(), "fcclip-convert-"));
      const out2 = ["--output", join(dir2, "x")];
      lines.length = 0;
      expect(await run(["convert", "--weights", join(MODEL, "fcclip_tiny_head.pth"), ...out2], log)).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^fcclip: .*open_clip/);
      expect(await run(["convert", "--weights", join(dir2, "nope.pth"), ...out2], log)).toBe(2);
      expect(lines[1]).toMatch(/cannot open .*nope\.pth: no such file/);
      expect(await run([...base.slice(0, 3), ...out2, ...clip, "--opts", "MODEL.MASK_FORMER.NHEADS", "8"], log)).toBe(
        1,
      );
      expect(await run(["convert", "--output", "x"], log)).toBe(2);
      expect(await run(["convert", "--weights", "a", "--bogus"], log)).toBe(2);
      expect(readdirSync(dir2)).toEqual([]);
      expect(existsSync(join(dir2, "x.safetensors.partial"))).toBe(false);
    });
  },
);
