import { DataFileError, DataFolder } from "./data-folder.js";

/**
 * FC-CLIP's data folder served over HTTP at `baseUrl` (the browser app's `data/` by default); `hint` ends the
 * message of a failed fetch (what the user should do).
 */
export function urlData(
  baseUrl: string,
  hint = `serve FC-CLIP's data files (see the README) at ${baseUrl}`,
): DataFolder {
  return new DataFolder(async (path, what) => {
    const url = new URL(path, baseUrl).href;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new DataFileError(`cannot fetch ${what} from ${url}: ${(e as Error).message}`);
    }
    if (!res.ok) {
      throw new DataFileError(`cannot fetch ${what} from ${url} (HTTP ${res.status}): ${hint}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  });
}
