// ffmpeg is not installed on the test machines: the missing-tool message is tested for real, and the frame loop with
// stand-in ffmpeg/ffprobe scripts that behave like them (frames out, overlays in), recording their arguments.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED } from "../../../tensor-core/src/testing/shared.js";
import { decodeImage } from "../image/decode.js";
import { CHELSEA, TINY_SEGMENT_ARGS } from "../testing/oracle-tiny.js";
import { run } from "./main.js";
import { checkVideoTools } from "./video.js";

const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

describe("--video-input", () => {
  test("without ffmpeg on PATH the message says what to install", () => {
    process.env.PATH = mkdtempSync(join(tmpdir(), "fcclip-nopath-"));
    expect(() => checkVideoTools()).toThrow(
      /--video-input needs ffmpeg and ffprobe on PATH, not found \(Debian: apt-get install ffmpeg\)/,
    );
  });

  test.skipIf(!HAS_SHARED)(
    `frames are segmented, per-frame JSON written, overlays encoded (${HAS_SHARED ? "oracle" : NO_SHARED})`,
    async () => {
      const bin = mkdtempSync(join(tmpdir(), "fcclip-fakebin-"));
      const calls = join(bin, "calls.txt");
      const script = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${calls}\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
      };
      script("ffprobe", 'echo "25/1"');
      // Decoding writes two frames where the pattern says; encoding concatenates the overlays into the output file.
      script(
        "ffmpeg",
        `[ "$1" = "-version" ] && exit 0
for last; do :; done
case "$*" in
  *frame_%06d.png*) d=$(dirname "$last"); cp ${CHELSEA} "$d/frame_000001.png"; cp ${CHELSEA} "$d/frame_000002.png" ;;
  *overlay_%06d.png*) for a; do case "$a" in *overlay_%06d.png) d=$(dirname "$a");; esac; done; cat "$d"/overlay_*.png > "$last" ;;
esac`,
      );
      process.env.PATH = `${bin}:${PATH}`;
      const out = mkdtempSync(join(tmpdir(), "fcclip-video-"));
      const video = join(out, "clip.mp4");
      writeFileSync(video, "a video");
      const lines: string[] = [];
      const code = await run(
        [...TINY_SEGMENT_ARGS, "--vocab", "coco_panoptic", "--video-input", video, "--output", out],
        (s) => lines.push(s),
      );
      expect(code, lines.join("\n")).toBe(0);
      expect(readdirSync(join(out, "clip.frames")).sort()).toEqual(["000001.json", "000002.json"]);
      const frame = JSON.parse(readFileSync(join(out, "clip.frames", "000002.json"), "utf8"));
      expect(frame.image).toMatchObject({ file: `${video}#2`, height: 300, width: 451 });
      expect(frame.segments.length).toBeGreaterThan(0);
      // The "video" holds both overlays, each the frame's size (no legend).
      const encoded = readFileSync(join(out, "clip.overlay.mp4"));
      const second = encoded.indexOf(Buffer.from([0x89, 0x50, 0x4e, 0x47]), 8);
      expect(second).toBeGreaterThan(0);
      expect(decodeImage(encoded.subarray(0, second))).toMatchObject({ width: 451, height: 300 });
      expect(readdirSync(out).filter((n) => n.includes("partial"))).toEqual([]);
      const log = readFileSync(calls, "utf8");
      expect(log).toMatch(
        /ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 .*clip\.mp4/,
      );
      expect(log).toMatch(/ffmpeg -v error -i .*clip\.mp4 -fps_mode passthrough .*frame_%06d\.png/);
      expect(log).toMatch(
        /ffmpeg -v error -y -framerate 25\/1 -i .*overlay_%06d\.png -vf pad=ceil\(iw\/2\)\*2:ceil\(ih\/2\)\*2 -c:v libx264 -pix_fmt yuv420p/,
      );
    },
  );
});
