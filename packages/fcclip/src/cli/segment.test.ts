import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesSource, SafetensorsFile } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { decodeImage } from "../image/decode.js";
import { FCCLIP_STAGES } from "../pipeline/stages.js";
import { CHELSEA, TINY, TINY_MODEL, TINY_SEGMENT_ARGS } from "../testing/oracle-tiny.js";
import { run } from "./main.js";

const M = TINY_MODEL;
const RUN = join(TINY, "runs", "chelsea", "coco_panoptic");

describe.skipIf(!HAS_SHARED)(`fcclip segment (${HAS_SHARED ? "oracle" : NO_SHARED})`, () => {
  const base = TINY_SEGMENT_ARGS;

  test("writes the official panoptic ids, segments, semantic map, instances, overlay and tensors", async () => {
    const out = mkdtempSync(join(tmpdir(), "fcclip-seg-"));
    const cache = mkdtempSync(join(tmpdir(), "fcclip-cache-"));
    const cached = base.filter((a) => a !== "--no-cache");
    const code = await run(
      [
        ...cached,
        "--vocab",
        "coco_panoptic",
        "--input",
        CHELSEA,
        "--output",
        out,
        "--dump-tensors",
        "--cache-dir",
        cache,
      ],
      () => {},
    );
    expect(code).toBe(0);
    // The encoded vocabulary was kept: 254 synonyms × 48 dims of float32.
    const kept = readdirSync(cache);
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(cache, kept[0]!)).byteLength).toBe(254 * 48 * 4);
    expect(readdirSync(out).sort()).toEqual(
      [
        "chelsea.instances.json",
        "chelsea.json",
        "chelsea.overlay.png",
        "chelsea.panoptic.png",
        "chelsea.semantic.png",
        "chelsea.tensors.safetensors",
      ].sort(),
    );
    const pan = decodeImage(readFileSync(join(out, "chelsea.panoptic.png")));
    const ref = decodeImage(readFileSync(join(RUN, "panoptic_seg.png")));
    for (let i = 0; i < ref.width * ref.height; i++) {
      const id = pan.data[i * 3]! + 256 * pan.data[i * 3 + 1]! + 65536 * pan.data[i * 3 + 2]!;
      if (id !== ref.data[i * 3]) throw new Error(`panoptic id differs at pixel ${i}`);
    }
    // A second run reads the kept vocabulary and gives the same panoptic result; --confidence-threshold keeps the
    // instances scoring at least the threshold (here the median score of the first run).
    const scores = (
      JSON.parse(readFileSync(join(out, "chelsea.instances.json"), "utf8")).instances as { score: number }[]
    )
      .map((x) => x.score)
      .sort((a, b) => a - b);
    const threshold = scores[Math.floor(scores.length / 2)]!;
    const out2 = mkdtempSync(join(tmpdir(), "fcclip-seg-"));
    const args2 = ["--vocab", "coco_panoptic", "--input", CHELSEA, "--output", out2, "--cache-dir", cache];
    expect(await run([...cached, ...args2, "--confidence-threshold", String(threshold)], () => {})).toBe(0);
    expect(readFileSync(join(out2, "chelsea.panoptic.png"))).toEqual(readFileSync(join(out, "chelsea.panoptic.png")));
    const above = JSON.parse(readFileSync(join(out2, "chelsea.instances.json"), "utf8")).instances as {
      score: number;
    }[];
    expect(above.length).toBe(scores.filter((s) => s >= threshold).length);
    expect(above.length).toBeLessThan(scores.length);
    const json = JSON.parse(readFileSync(join(out, "chelsea.json"), "utf8"));
    const segRef = JSON.parse(readFileSync(join(RUN, "segments_info.json"), "utf8")).segments_info;
    expect(json.image).toMatchObject({ height: 300, width: 451 });
    expect(json.segments).toMatchObject(segRef);
    expect(json.segments[0].category).toBe(json.classes[json.segments[0].category_id]);
    expect(json.segments[0].bbox).toHaveLength(4);
    const inst = JSON.parse(readFileSync(join(out, "chelsea.instances.json"), "utf8"));
    expect(inst.instances).toHaveLength(89);
    const st = await SafetensorsFile.open(bytesSource(readFileSync(join(out, "chelsea.tensors.safetensors"))));
    expect(st.keys()).toContain("backbone.res5");
    expect(st.entry("pixel_decoder.mask_features")!.shape).toEqual([1, 64, 40, 64]);
  });

  test("--profile reports each image's stages and op kinds, cold then warm, and changes no result", async () => {
    const out = mkdtempSync(join(tmpdir(), "fcclip-prof-"));
    const second = join(out, "again.png");
    copyFileSync(CHELSEA, second);
    const lines: string[] = [];
    const args = [...base, "--vocab", "cat;dog;stuff:sky", "--input", CHELSEA, second, "--output"];
    expect(await run([...args, out, "--profile"], (l) => lines.push(l))).toBe(0);
    const reports = lines.filter((l) => /^(chelsea|again)\.png: /.test(l));
    expect(reports).toEqual(["chelsea.png: cold (first image: shader compiles included)", "again.png: warm"]);
    const cold = JSON.parse(readFileSync(join(out, "chelsea.profile.json"), "utf8"));
    const warm = JSON.parse(readFileSync(join(out, "again.profile.json"), "utf8"));
    const stages = [...FCCLIP_STAGES];
    expect(cold.stages.map((s: { name: string }) => s.name)).toEqual(["text classifier", ...stages]);
    expect(warm.stages.map((s: { name: string }) => s.name)).toEqual(stages);
    for (const p of [cold, warm]) {
      const kinds = p.kinds.map((k: { kind: string }) => k.kind);
      for (const k of ["matmul", "depthwise conv", "norm", "sampling", "softmax / attention", "post-processing"])
        expect(kinds).toContain(k);
      expect(p.gpuMs).toBeGreaterThan(0);
      expect(p.stages.every((s: { wallMs: number }) => s.wallMs > 0)).toBe(true);
    }
    // The same image again builds no new pipeline.
    expect(cold.coldMs).toBeGreaterThan(0);
    expect(warm.coldMs).toBe(0);
    // Beyond the text classifier, the first image also packs the weights' textures (once per model).
    const count = (st: { kinds: { count: number }[] }) => st.kinds.reduce((n, k) => n + k.count, 0);
    const copies = (p: { kinds: { kind: string; count: number }[] }) =>
      p.kinds.find((k) => k.kind === "copies / permutes")?.count ?? 0;
    expect(warm.dispatches).toBeLessThan(cold.dispatches - count(cold.stages[0]));
    expect(cold.dispatches - count(cold.stages[0]) - warm.dispatches).toBe(
      copies(cold) -
        count({ kinds: cold.stages[0].kinds.filter((k: { kind: string }) => k.kind === "copies / permutes") }) -
        copies(warm),
    );
    const plain = mkdtempSync(join(tmpdir(), "fcclip-prof-"));
    expect(await run([...args.slice(0, -3), CHELSEA, "--output", plain], () => {})).toBe(0);
    expect(readFileSync(join(out, "chelsea.panoptic.png"))).toEqual(readFileSync(join(plain, "chelsea.panoptic.png")));
    const segments = (dir: string, stem: string) =>
      JSON.parse(readFileSync(join(dir, `${stem}.json`), "utf8")).segments;
    expect(segments(out, "again")).toEqual(segments(plain, "chelsea"));
  });

  test("errors are one line with a non-zero exit, and leave no output", async () => {
    const out = mkdtempSync(join(tmpdir(), "fcclip-seg-"));
    const lines: string[] = [];
    const log = (s: string) => lines.push(s);
    const go = (extra: string[], b = base) => run([...b, "--output", out, ...extra], log);
    expect(await go(["--vocab", "coco_panoptic", "--input", join(M, "weights.json")])).toBe(1);
    expect(lines.at(-1)).toMatch(/weights\.json: not a PNG or JPEG/);
    expect(await go(["--vocab", " ; ", "--input", CHELSEA])).toBe(1);
    expect(lines.at(-1)).toMatch(/vocabulary is empty/);
    const at = base.indexOf("--clip-weights");
    const noClip = base.filter((_, i) => i !== at && i !== at + 1);
    expect(await go(["--vocab", "cat;dog", "--input", CHELSEA], noClip)).toBe(1);
    expect(lines.at(-1)).toMatch(/open_clip_pytorch_model\.bin/);
    expect(await go(["--vocab", "cat", "--input", CHELSEA, "--opts", "MODEL.MASK_FORMER.NHEADS", "8"])).toBe(1);
    expect(lines.at(-1)).toMatch(/NHEADS/);
    expect(await go(["--vocab", "cat", "--input", CHELSEA, "--opts", "INPUT.NOPE", "1"])).toBe(1);
    // The text encoder's errors are not the engine's, and the CLI treats them alike.
    const data = mkdtempSync(join(tmpdir(), "fcclip-data-"));
    symlinkSync(join(SHARED, "data", "vocab"), join(data, "vocab"));
    mkdirSync(join(data, "tokenizer"));
    writeFileSync(join(data, "tokenizer", "bpe_simple_vocab_16e6.txt.gz"), "not gzip");
    const dataAt = base.indexOf("--data-dir") + 1;
    const badData = base.map((a, i) => (i === dataAt ? data : a));
    expect(await go(["--vocab", "cat", "--input", CHELSEA], badData)).toBe(1);
    expect(lines.at(-1)).toMatch(/the BPE vocabulary is not gzip data/);
    expect(await go(["--vocab", "cat", "--input", join(out, "*.jpg")])).toBe(2);
    expect(await go(["--vocab", "cat", "--input", CHELSEA, "--task", "everything"])).toBe(2);
    expect(await go(["--vocab", "cat", "--input", CHELSEA, "--confidence-threshold", "high"])).toBe(2);
    expect(lines.at(-1)).toMatch(/--confidence-threshold must be a score between 0 and 1, not 'high'/);
    expect(await go(["--vocab", "cat", "--input", out])).toBe(2);
    expect(lines.at(-1)).toMatch(/is a folder without PNG or JPEG images/);
    expect(
      await run(
        [
          "segment",
          "--weights",
          join(out, "a.pth"),
          "--clip-weights",
          join(out, "b.bin"),
          "--data-dir",
          out,
          "--vocab",
          "coco_panoptic",
          "--input",
          CHELSEA,
          "--output",
          out,
        ],
        log,
      ),
    ).toBe(2);
    expect(lines.at(-1)).toMatch(
      /missing files: .*a\.pth, .*b\.bin, .*bpe_simple_vocab_16e6\.txt\.gz, .*coco_panoptic_with_prompt_eng\.txt, .*meta.coco_panoptic\.json/,
    );
    expect(lines.every((l) => !l.includes("\n"))).toBe(true);
    expect(readdirSync(out)).toEqual([]);
  });
});
