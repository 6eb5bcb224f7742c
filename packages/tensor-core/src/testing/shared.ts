import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * ../shared beside the repository (oracle outputs, official data files); tests skip with NO_SHARED when it is absent.
 * Test files of every package import the harness from tensor-core/src/testing by relative path: test-only code,
 * never built into a package.
 */
export const SHARED = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "..", "shared");
export const HAS_SHARED = existsSync(join(SHARED, "oracle", "tiny"));
export const NO_SHARED = `needs ../shared (oracle and data files), not found at ${SHARED}`;
