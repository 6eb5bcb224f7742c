import {
  bundleChunks,
  bundleConfig,
  ConfigError,
  type ConfigSource,
  loadFcclipWeights,
  openClipTextHeads,
  type ResolvedConfig,
  resolveConfigFrom,
  urlConfigSource,
} from "@fcclip/core";
import { type ByteSource, blobSource, openStateDict } from "@fcclip/tensor-core";
import type { CachedModel, ModelSource } from "./protocol.js";

/** A model file that cannot be fetched or used as given; the message says which and why. */
export class ModelFilesError extends Error {
  override name = "ModelFilesError";
}

export type Progress = (stage: string, done: number, total: number, unit: "bytes" | "items") => void;

/** meta.json: what the page is shown, plus the bundle's file name in the model's folder. */
type StoredMeta = Omit<CachedModel, "key"> & { file: string };

const ROOT = "fcclip-models";
const BUNDLE = "bundle.safetensors";
const META = "meta.json";

const nameOf = (s: ModelSource) =>
  s.kind === "file" ? s.file.name : decodeURIComponent(new URL(s.url).pathname.split("/").pop() ?? "");

async function textOf(s: ModelSource): Promise<string> {
  if (s.kind === "file") return s.file.text();
  const res = await fetchOk(s.url);
  return res.text();
}

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelFilesError(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new ModelFilesError(`cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

async function modelsDir(): Promise<FileSystemDirectoryHandle> {
  if (!navigator.storage?.getDirectory) {
    throw new ModelFilesError("this browser has no origin private file system (OPFS), where the model is kept");
  }
  return (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create: true });
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Streams `chunks` into an OPFS file. */
async function writeFile(dir: FileSystemDirectoryHandle, name: string, chunks: AsyncIterable<Uint8Array>) {
  const handle = await dir.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  try {
    for await (const c of chunks) await w.write(c as Uint8Array<ArrayBuffer>);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    if ((e as DOMException).name === "QuotaExceededError") {
      throw new ModelFilesError(
        `the browser's storage for this site is full while writing ${name}: forget cached models or free disk space`,
      );
    }
    throw e;
  }
  return handle;
}

async function* counted(
  body: ReadableStream<Uint8Array>,
  stage: string,
  total: number,
  progress: Progress,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let done = 0;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    done += value.byteLength;
    progress(stage, done, total, "bytes");
    yield value;
  }
}

async function* download(url: string, stage: string, progress: Progress): AsyncGenerator<Uint8Array> {
  const res = await fetchOk(url);
  if (!res.body) throw new ModelFilesError(`${url}: the response has no body`);
  yield* counted(res.body, stage, Number(res.headers.get("content-length") ?? 0), progress);
}

async function isBundle(source: ByteSource): Promise<boolean> {
  return (await openStateDict(source)).metadata.format === "fcclip-bundle";
}

/** `_BASE_` among the picked files, by file name. */
function pickedConfigSource(files: File[]): ConfigSource {
  return {
    async read(name) {
      const f = files.find((x) => x.name === name);
      if (!f) throw new ConfigError(`the config's _BASE_ ${name} was not picked: pick it too, or pick a merged config`);
      return f.text();
    },
    resolve: (_from, base) => base.split("/").pop()!,
  };
}

interface Sorted {
  weights: ModelSource[];
  config?: ModelSource;
  textHeads?: number;
}

async function sortSources(sources: ModelSource[]): Promise<Sorted> {
  const out: Sorted = { weights: [] };
  for (const s of sources) {
    const name = nameOf(s);
    if (/\.ya?ml$/i.test(name)) {
      if (out.config)
        throw new ModelFilesError(`two detectron2 configs given (${nameOf(out.config)}, ${name}): give one`);
      out.config = s;
    } else if (/\.json$/i.test(name)) {
      const text = await textOf(s);
      // `fcclip convert`'s sidecar describes its safetensors, which carries the same record itself.
      if (text.includes('"fcclip-bundle"')) continue;
      out.textHeads = openClipTextHeads(text, name);
    } else out.weights.push(s);
  }
  if (out.weights.length === 0) {
    throw new ModelFilesError(
      "no weights given: give a bundle from `fcclip convert` (.safetensors), or the official fcclip_cocopan.pth plus open_clip's open_clip_pytorch_model.bin (a ResNet model: its checkpoint plus OpenAI's RN50.pt or the like)",
    );
  }
  return out;
}

async function resolveConfig(sorted: Sorted, sources: ModelSource[]): Promise<ResolvedConfig> {
  const c = sorted.config;
  if (!c) return resolveConfigFrom(urlConfigSource, undefined);
  if (c.kind === "url") return resolveConfigFrom(urlConfigSource, c.url);
  const files = sources.flatMap((s) => (s.kind === "file" ? [s.file] : []));
  return resolveConfigFrom(pickedConfigSource(files), c.file.name);
}

export async function listCached(): Promise<CachedModel[]> {
  const dir = await modelsDir();
  const out: CachedModel[] = [];
  for await (const [key, handle] of dir.entries()) {
    if (handle.kind !== "directory") continue;
    try {
      const meta = await (await (handle as FileSystemDirectoryHandle).getFileHandle(META)).getFile();
      const { label, bytes, createdAt, config } = JSON.parse(await meta.text()) as StoredMeta;
      out.push({ key, label, bytes, createdAt, config });
    } catch {
      // A folder without meta.json is an interrupted conversion: not a model.
      await dir.removeEntry(key, { recursive: true }).catch(() => {});
    }
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export async function forgetCached(key: string): Promise<void> {
  await (await modelsDir()).removeEntry(key, { recursive: true });
}

export async function openCached(key: string): Promise<{ bundle: ByteSource; meta: CachedModel }> {
  const dir = await (await modelsDir()).getDirectoryHandle(key).catch(() => {
    throw new ModelFilesError(
      `the cached model ${key} is gone (the browser may have cleared site data): load it again`,
    );
  });
  const { file: name, ...meta } = JSON.parse(
    await (await (await dir.getFileHandle(META)).getFile()).text(),
  ) as StoredMeta;
  const file = await (await dir.getFileHandle(name)).getFile();
  return { bundle: blobSource(file, `${meta.label} (cached)`), meta: { ...meta, key } };
}

/**
 * Official files or a bundle (URLs or picked files) → one bundle in the origin private file system, written by the
 * same code as `fcclip convert`, with the resolved config beside it. A folder counts as a model only once its
 * meta.json is written, so an interrupted conversion leaves nothing that looks usable.
 */
export async function importModel(sources: ModelSource[], progress: Progress): Promise<CachedModel> {
  const sorted = await sortSources(sources);
  const config = await resolveConfig(sorted, sources);
  const label = sources.map(nameOf).join(" + ");
  const key = await sha256Hex(
    JSON.stringify(sources.map((s) => (s.kind === "url" ? s.url : [s.file.name, s.file.size, s.file.lastModified]))),
  );
  const root = await modelsDir();
  await root.removeEntry(key, { recursive: true }).catch(() => {});
  const dir = await root.getDirectoryHandle(key, { create: true });
  try {
    const files: ByteSource[] = [];
    for (const [i, s] of sorted.weights.entries()) {
      if (s.kind === "file") files.push(blobSource(s.file));
      else {
        const handle = await writeFile(dir, `download-${i}`, download(s.url, `downloading ${nameOf(s)}`, progress));
        files.push(blobSource(await handle.getFile(), nameOf(s)));
      }
    }
    const weights = await loadFcclipWeights(files, { heads: config.heads, textHeads: sorted.textHeads });
    let file = BUNDLE;
    let handle: FileSystemFileHandle;
    const only = sorted.weights.length === 1 ? sorted.weights[0]! : null;
    if (only && (await isBundle(files[0]!))) {
      // A bundle is kept as it is (f16 storage included): a download already sits in the folder, a picked file
      // is copied there because its handle does not survive a reload.
      if (only.kind === "url") {
        file = "download-0";
        handle = await dir.getFileHandle(file);
      } else {
        handle = await writeFile(
          dir,
          BUNDLE,
          counted(only.file.stream(), `copying ${only.file.name}`, only.file.size, progress),
        );
      }
    } else {
      handle = await writeFile(
        dir,
        BUNDLE,
        bundleChunks(weights, bundleConfig(weights, BUNDLE), {
          onProgress: (d, t) => progress("converting", d, t, "items"),
        }),
      );
      for (const i of sorted.weights.keys()) await dir.removeEntry(`download-${i}`).catch(() => {});
    }
    const meta = { label, bytes: (await handle.getFile()).size, createdAt: new Date().toISOString(), config };
    await writeFile(
      dir,
      META,
      (async function* () {
        yield new TextEncoder().encode(JSON.stringify({ ...meta, file } satisfies StoredMeta));
      })(),
    );
    return { ...meta, key };
  } catch (e) {
    await root.removeEntry(key, { recursive: true }).catch(() => {});
    throw e;
  }
}
