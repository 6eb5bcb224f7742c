import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { dropDawnNotices } from "./dawn-notices.js";

async function filter(chunks: string[]): Promise<string> {
  let out = "";
  for await (const c of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(dropDawnNotices())) out += c;
  return out;
}

describe("Dawn's limit notices", () => {
  const notice = (what: string) =>
    `Warning: maxDynamic${what}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.`;

  test("are dropped, also split across chunks or glued to the line before; other output is kept", async () => {
    const text = `{"a": 1}\n\n${notice("Uniform")}\n  0.98  cat\n${notice("Storage")}\nWarning: something else\nlast`;
    const cut = Math.floor(text.length / 2);
    expect(await filter([text.slice(0, cut), text.slice(cut)])).toBe(
      '{"a": 1}\n\n  0.98  cat\nWarning: something else\nlast',
    );
    // C stdio flushes at exit, possibly after an unterminated line of ours.
    expect(await filter([`done${notice("Uniform")}\n`, notice("Storage")])).toBe("done\n");
  });

  test("progress bars (no newline) pass at once; only what could start a notice waits, then goes with its newline", async () => {
    const f = dropDawnNotices();
    const seen: string[] = [];
    f.on("data", (c: Buffer) => seen.push(c.toString()));
    f.write("\rsegmenting [###...] 10%");
    f.write("\rsegmenting [######] 20% Warn");
    f.write(`ing: maxDynamic${notice("Storage").slice(19)}\n\rdone`);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(["\rsegmenting [###...] 10%", "\rsegmenting [######] 20% ", "\rdone"]);
  });
});

// The built CLI (npm test builds first); it creates a Dawn device on lavapipe, where Dawn prints the notices.
const BIN = fileURLToPath(new URL("../../dist/cli/bin.js", import.meta.url));
describe.skipIf(!HAS_SHARED || !existsSync(BIN))("the fcclip binary", () => {
  test("prints no Dawn notice and keeps the exit code", () => {
    const M = join(SHARED, "oracle", "tiny", "model");
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        "classify",
        "--clip-weights",
        join(M, "open_clip_tiny.bin"),
        "--clip-config",
        join(M, "convnext_oracle_tiny_clip.json"),
        "--bpe",
        join(SHARED, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz"),
        "--labels",
        "cat,dog",
        "--json",
        join(SHARED, "oracle", "tiny", "images", "chelsea.png"),
      ],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)[0].results).toHaveLength(2);
    expect(r.stderr).not.toMatch(/artificially reduced/);
    const bad = spawnSync(process.execPath, [BIN, "segment", "--bogus"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("fcclip: unknown option --bogus\n");
  });
});
