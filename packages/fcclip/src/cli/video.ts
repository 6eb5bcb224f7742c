/**
 * `fcclip segment --video-input FILE`, like the official demo: frames are decoded by Debian's `ffmpeg`, segmented one
 * by one (per-frame JSON as `fcclip segment` writes it), and the overlays are encoded back into a video.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, extname, join, resolve } from "node:path";
import { FcclipError } from "../errors.js";
import { decodeImage } from "../image/decode.js";
import { writeFilesAtomic } from "../output/atomic-write.js";
import { resultFiles } from "../output/write-results.js";
import { progressBar } from "./progress.js";
import type { Segmenter } from "./segmenter.js";
import { UsageError } from "./usage-error.js";

/** ffmpeg or ffprobe failed on the video. */
export class VideoToolError extends FcclipError {
  override name = "VideoToolError";
}

/** Checks that ffmpeg and ffprobe can be run, before any model is loaded. */
export function checkVideoTools(): void {
  const missing = ["ffmpeg", "ffprobe"].filter((t) => spawnSync(t, ["-version"], { stdio: "ignore" }).error);
  if (missing.length)
    throw new UsageError(
      `--video-input needs ${missing.join(" and ")} on PATH, not found (Debian: apt-get install ffmpeg); or extract frames yourself and pass them with --input`,
    );
}

function runTool(tool: string, args: readonly string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(tool, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.on("error", (e) => fail(new VideoToolError(`${tool}: ${e.message}`)));
    child.on("close", (code) => {
      if (code === 0) done(out);
      else
        fail(
          new VideoToolError(`${tool} ${args.join(" ")} failed (exit ${code}): ${err.trim().split("\n").at(-1) ?? ""}`),
        );
    });
  });
}

export interface VideoArgs {
  video: string;
  output: string;
}

/** Writes `<stem>.frames/<frame>.json` per frame and `<stem>.overlay.mp4`; returns the written paths. */
export async function segmentVideo(args: VideoArgs, segmenter: Segmenter): Promise<string[]> {
  const stem = basename(args.video, extname(args.video));
  const out = resolve(args.output);
  const framesDir = join(out, `${stem}.frames`);
  await mkdir(framesDir, { recursive: true }).catch((e: Error) => {
    throw new UsageError(`cannot create the output folder ${framesDir}: ${e.message}`);
  });
  const rate = (
    await runTool("ffprobe", [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=r_frame_rate",
      "-of",
      "csv=p=0",
      args.video,
    ])
  ).trim();
  if (!/^\d+(\/\d+)?$/.test(rate)) throw new VideoToolError(`ffprobe found no video stream in ${args.video}`);
  const tmp = await mkdtemp(join(tmpdir(), "fcclip-video-"));
  const written: string[] = [];
  try {
    await runTool("ffmpeg", ["-v", "error", "-i", args.video, "-fps_mode", "passthrough", join(tmp, "frame_%06d.png")]);
    const frames = (await readdir(tmp)).filter((n) => n.startsWith("frame_")).sort();
    if (frames.length === 0) throw new VideoToolError(`ffmpeg decoded no frame from ${args.video}`);
    const bar = progressBar("segmenting frames");
    for (const [i, name] of frames.entries()) {
      const n = name.slice("frame_".length, -".png".length);
      const img = decodeImage(new Uint8Array(await readFile(join(tmp, name))), `${args.video} frame ${n}`);
      const seg = await segmenter.segment(img);
      // Overlays without the legend keep every frame the video's size.
      const files = await resultFiles(img, `${args.video}#${Number(n)}`, seg, segmenter.vocab, { legend: false });
      const json = join(framesDir, `${n}.json`);
      await writeFilesAtomic([[json, files.get(".json")!]]);
      await writeFile(join(tmp, `overlay_${n}.png`), files.get(".overlay.png")!);
      written.push(json);
      bar.update(i + 1, frames.length, `frame ${Number(n)}`);
    }
    const video = join(out, `${stem}.overlay.mp4`);
    const partial = join(out, `${stem}.overlay.${randomBytes(6).toString("hex")}.partial.mp4`);
    await runTool("ffmpeg", [
      "-v",
      "error",
      "-y",
      "-framerate",
      rate,
      "-i",
      join(tmp, "overlay_%06d.png"),
      // H.264 in yuv420p (what players accept) needs even sizes.
      "-vf",
      "pad=ceil(iw/2)*2:ceil(ih/2)*2",
      "-c:v",
      "libx264",
      "-pix_fmt",
      "yuv420p",
      partial,
    ]).catch(async (e) => {
      await rm(partial, { force: true });
      throw e;
    });
    await rename(partial, video);
    written.push(video);
    return written;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
