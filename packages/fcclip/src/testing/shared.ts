import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** ../shared beside the repository (oracle outputs, official data files); tests skip with this reason when absent. */
export const SHARED = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "..", "shared");
export const HAS_SHARED = existsSync(join(SHARED, "oracle", "tiny"));
export const NO_SHARED = `needs ../shared (oracle and data files), not found at ${SHARED}`;
