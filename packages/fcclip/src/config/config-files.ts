import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ConfigError, type ConfigSource, type ResolvedConfig, resolveConfigFrom } from "./config.js";

/** Config files on disk; `_BASE_` is relative to the including file. */
export const fileConfigSource: ConfigSource = {
  async read(path) {
    try {
      return await readFile(path, "utf8");
    } catch (e) {
      throw new ConfigError(
        `cannot read config ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
      );
    }
  },
  resolve: (from, base) => resolve(dirname(from), base),
};

/** `resolveConfigFrom` on the file system: the CLI's `--config-file` and `--opts`. */
export function resolveConfig(
  file: string | undefined,
  opts: readonly [string, string][] = [],
): Promise<ResolvedConfig> {
  return resolveConfigFrom(fileConfigSource, file && resolve(file), opts);
}
