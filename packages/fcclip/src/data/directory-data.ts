import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DataFileError, DataFolder } from "./data-folder.js";

/** FC-CLIP's data folder on disk (`--data-dir`). */
export function directoryData(dir: string): DataFolder {
  return new DataFolder(async (path, what) => {
    const file = join(dir, path);
    try {
      return new Uint8Array(await readFile(file));
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
      throw new DataFileError(`cannot read ${what} ${file}: ${why} (the README says where FC-CLIP's data files go)`);
    }
  });
}
