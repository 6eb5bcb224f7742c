import { createWriteStream } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { fileSource } from "@fcclip/tensor-core";
import type { ArchitectureConfig } from "../weights/architecture.js";
import { bundleChunks, bundleConfig } from "../weights/bundle.js";
import { loadFcclipWeights } from "../weights/load.js";
import { openClipTextHeads } from "../weights/open-clip-config.js";
import { progressBar } from "./progress.js";
import { UsageError } from "./usage-error.js";

export interface ConvertArgs {
  weights: string;
  clipWeights?: string;
  clipConfig?: string;
  output: string;
  f16: boolean;
  opts: [string, string][];
}

const OPTS: Record<string, keyof ArchitectureConfig> = {
  "MODEL.MASK_FORMER.NHEADS": "heads",
};

/** Reads an open_clip model config JSON (e.g. convnext_large_d_320.json) for what shapes cannot tell. */
export async function clipConfigHeads(path: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read the open_clip model config ${path}: ${(e as Error).message}`);
  }
  try {
    return openClipTextHeads(text, path);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `fcclip convert`: official file(s) → `<output>.safetensors` + `<output>.json`, written atomically. */
export async function convert(args: ConvertArgs): Promise<{ weights: string; config: string }> {
  const config: ArchitectureConfig = {};
  for (const [key, value] of args.opts) {
    const field = OPTS[key];
    const n = Number(value);
    if (!field)
      throw new UsageError(`--opts ${key} does not affect conversion (known: ${Object.keys(OPTS).join(", ")})`);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--opts ${key} must be a positive integer, got '${value}'`);
    config[field] = n;
  }
  if (args.clipConfig) config.textHeads = await clipConfigHeads(args.clipConfig);
  const prefix = resolve(args.output.replace(/\.(safetensors|json)$/, ""));
  const out = { weights: `${prefix}.safetensors`, config: `${prefix}.json` };
  const paths = [args.weights, ...(args.clipWeights ? [args.clipWeights] : [])];
  const sources = await Promise.all(
    paths.map((p) =>
      fileSource(p).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot open ${p}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
      }),
    ),
  );
  const weights = await loadFcclipWeights(sources, config).catch(async (e) => {
    await Promise.all(sources.map((s) => s.close?.()));
    throw e;
  });
  const tmp = { weights: `${out.weights}.partial`, config: `${out.config}.partial` };
  try {
    const cfg = bundleConfig(weights, basename(out.weights), { f16: args.f16 });
    const bar = progressBar("converting");
    const stream = createWriteStream(tmp.weights);
    const failed = new Promise<never>((_, reject) => stream.on("error", reject));
    for await (const chunk of bundleChunks(weights, cfg, { onProgress: (d, t, k) => bar.update(d, t, k) })) {
      if (!stream.write(chunk)) await Promise.race([new Promise<void>((r) => stream.once("drain", () => r())), failed]);
    }
    await Promise.race([new Promise<void>((r) => stream.end(() => r())), failed]);
    await writeFile(tmp.config, `${JSON.stringify(cfg, null, 2)}\n`);
    await rename(tmp.weights, out.weights);
    await rename(tmp.config, out.config);
    return out;
  } finally {
    await rm(tmp.weights, { force: true });
    await rm(tmp.config, { force: true });
    await weights.close();
  }
}
