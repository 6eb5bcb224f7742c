import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";

/**
 * Writes a group of files so that none appears half-written: all go to temporary names first (random, so machines
 * sharing a folder do not collide: containers often all run as pid 1), then each is renamed into place; on failure
 * the temporaries are removed and the error rethrown.
 */
export async function writeFilesAtomic(files: Iterable<[path: string, bytes: Uint8Array | string]>): Promise<void> {
  const entries = [...files];
  const tag = randomBytes(6).toString("hex");
  const tmp = (p: string) => `${p}.${tag}.partial`;
  try {
    for (const [p, bytes] of entries) await writeFile(tmp(p), bytes);
    for (const [p] of entries) await rename(tmp(p), p);
  } catch (e) {
    await Promise.all(entries.map(([p]) => rm(tmp(p), { force: true })));
    throw e;
  }
}
