import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ClassifierStore } from "@fcclip/text-encoder";

/** $XDG_CACHE_HOME/fcclip, or ~/.cache/fcclip. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "fcclip");
}

/** Text classifiers as raw little-endian float32 files in a folder, written atomically. */
export function directoryStore(dir: string): ClassifierStore {
  return {
    async get(key) {
      try {
        const b = await readFile(join(dir, `${key}.f32`));
        return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      } catch {
        return undefined;
      }
    },
    async set(key, embeddings) {
      // A cache that cannot be written only costs time on the next run, so failures are not errors.
      try {
        await mkdir(dir, { recursive: true });
        const tmp = join(dir, `${key}.f32.${process.pid}.partial`);
        await writeFile(tmp, new Uint8Array(embeddings.buffer, embeddings.byteOffset, embeddings.byteLength));
        await rename(tmp, join(dir, `${key}.f32`));
      } catch {}
    },
  };
}
