import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { TokenizerError } from "@fcclip/text-encoder";
import { describe, expect, test } from "vitest";
import { DATA_FILES, DataFileError, DataFolder } from "./data-folder.js";
import { directoryData } from "./directory-data.js";
import { urlData } from "./url-data.js";

// A crafted data folder in the official layout: two small vocabularies with metadata (files of this shape, not the
// official ones; those are tested in vocabulary.test.ts when ../shared is present).
const FILES: Record<string, string> = {
  [DATA_FILES.vocabulary("coco_panoptic")]: "0:invalid_class_id\n1:person,child\n2:car,cars\n3:sky\n",
  [DATA_FILES.meta("coco_panoptic")]: JSON.stringify({ thing_dataset_id_to_contiguous_id: { 1: 0, 2: 1 } }),
  [DATA_FILES.vocabulary("ade20k_150")]: "0:invalid_class_id\n1:wall\n2:car,automobile\n3:tree,trees\n",
  [DATA_FILES.meta("ade20k_150")]: JSON.stringify({ thing_dataset_id_to_contiguous_id: { 2: 1, 3: 2 } }),
};

function memoryReader(files: Record<string, string | Uint8Array>) {
  const reads: string[] = [];
  const read = async (path: string, what: string) => {
    reads.push(path);
    const f = files[path];
    if (f === undefined) throw new DataFileError(`no ${what} at ${path}`);
    return typeof f === "string" ? new TextEncoder().encode(f) : f;
  };
  return { reads, read };
}

describe("DataFolder: the one reader of FC-CLIP's data files (CLI, evaluation, browser app)", () => {
  test("presets, the merged COCO + ADE20K preset, inline lists and the seen mask", async () => {
    const data = new DataFolder(memoryReader(FILES).read);
    const coco = await data.vocabulary("coco_panoptic");
    expect(coco.classes.map((c) => [c.name, c.isThing])).toEqual([
      ["person", true],
      ["car", true],
      ["sky", false],
    ]);
    const merged = await data.vocabulary("coco_ade20k");
    expect(merged.name).toBe("coco_ade20k");
    // ADE's "car,automobile" names a COCO class already, so only wall and tree are added.
    expect(merged.classes.map((c) => c.name)).toEqual(["person", "car", "sky", "wall", "tree"]);
    expect(Array.from(await data.seen(merged))).toEqual([1, 1, 1, 0, 0]);
    const inline = await data.vocabulary("cars;stuff:grass");
    expect(inline.classes.map((c) => [c.name, c.isThing])).toEqual([
      ["cars", true],
      ["grass", false],
    ]);
    expect(Array.from(await data.seen(inline))).toEqual([1, 0]);
  });

  test("requiredFiles lists exactly what a run reads", async () => {
    expect(DataFolder.requiredFiles("cat;dog")).toEqual([DATA_FILES.tokenizer, DATA_FILES.vocabulary("coco_panoptic")]);
    expect(DataFolder.requiredFiles("coco_ade20k").sort()).toEqual(
      [
        DATA_FILES.tokenizer,
        DATA_FILES.vocabulary("coco_panoptic"),
        DATA_FILES.meta("coco_panoptic"),
        DATA_FILES.vocabulary("ade20k_150"),
        DATA_FILES.meta("ade20k_150"),
      ].sort(),
    );
    // Reading a preset and its seen mask touches nothing outside the list.
    const { reads, read } = memoryReader(FILES);
    const data = new DataFolder(read);
    await data.seen(await data.vocabulary("ade20k_150"));
    const required = new Set(DataFolder.requiredFiles("ade20k_150"));
    expect(reads.every((r) => required.has(r))).toBe(true);
  });

  test("each text file is read once; a failed read is retried once the file is there", async () => {
    const files: Record<string, string> = { ...FILES };
    delete files[DATA_FILES.meta("ade20k_150")];
    const { reads, read } = memoryReader(files);
    const data = new DataFolder(read);
    await expect(data.vocabulary("ade20k_150")).rejects.toThrow(DataFileError);
    files[DATA_FILES.meta("ade20k_150")] = FILES[DATA_FILES.meta("ade20k_150")]!;
    expect((await data.vocabulary("ade20k_150")).classes).toHaveLength(3);
    await data.vocabulary("ade20k_150");
    expect(reads.filter((r) => r === DATA_FILES.vocabulary("ade20k_150"))).toHaveLength(1);
    expect(reads.filter((r) => r === DATA_FILES.meta("ade20k_150"))).toHaveLength(2);
  });

  test("the tokenizer file is taken gzip'd or already unpacked (a server's Content-Encoding)", async () => {
    // Not a real BPE vocabulary: the tokenizer's own check must see the same text either way.
    const text = "#version: 0.2\na b\n";
    for (const bytes of [gzipSync(text), new TextEncoder().encode(text)]) {
      const data = new DataFolder(memoryReader({ [DATA_FILES.tokenizer]: bytes }).read);
      await expect(data.tokenizer()).rejects.toThrow(TokenizerError);
      await expect(data.tokenizer()).rejects.toThrow(/has 2 merge lines \(48894 expected\)/);
    }
    const corrupt = new DataFolder(memoryReader({ [DATA_FILES.tokenizer]: new Uint8Array([0, 1, 2]) }).read);
    await expect(corrupt.tokenizer()).rejects.toThrow(/is not gzip data, nor its unpacked text/);
  });

  test("directoryData reads the layout from disk; a missing file is a DataFileError naming its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fcclip-data-"));
    for (const [p, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    const data = directoryData(dir);
    expect((await data.vocabulary("coco_panoptic")).classes).toHaveLength(3);
    const missing = data.tokenizer();
    await expect(missing).rejects.toThrow(DataFileError);
    await expect(data.tokenizer()).rejects.toThrow(
      `cannot read the CLIP BPE vocabulary ${join(dir, DATA_FILES.tokenizer)}: no such file`,
    );
  });

  test("urlData fetches the same layout over HTTP; a 404 names the URL and the caller's hint", async () => {
    const server = createServer((req, res) => {
      const text = FILES[decodeURIComponent(req.url!.replace(/^\/data\//, ""))];
      res.writeHead(text === undefined ? 404 : 200).end(text);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data/`;
    try {
      const data = urlData(base, "put the files there");
      expect((await data.vocabulary("coco_ade20k")).classes).toHaveLength(5);
      await expect(data.tokenizer()).rejects.toThrow(
        `cannot fetch the CLIP BPE vocabulary from ${base}${DATA_FILES.tokenizer} (HTTP 404): put the files there`,
      );
    } finally {
      server.close();
    }
  });
});
