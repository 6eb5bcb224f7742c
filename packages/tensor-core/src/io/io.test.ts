import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { blobSource, bytesSource, fileSource } from "./byte-source.js";
import { FormatError, LegacyCheckpointError, UnsafePickleError } from "./errors.js";
import { toFloat32 } from "./host-tensor.js";
import { TorchCheckpoint } from "./pytorch/checkpoint.js";
import { SafetensorsFile, safetensorsChunks } from "./safetensors.js";
import { openStateDict } from "./state-dict.js";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "io");
const file = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));

async function expectedTensors(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const st = await SafetensorsFile.open(bytesSource(file("expected.safetensors"), "expected"));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const k of st.keys()) {
    const t = await st.read(k);
    out.set(k, { shape: t.shape, data: toFloat32(t) });
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

describe("PyTorch checkpoints written by torch.save", async () => {
  const expected = await expectedTensors();

  for (const [name, prefix] of [
    ["nested.pth", "nested/"],
    ["views.pth", "views/"],
  ] as const) {
    test(`${name}: every tensor equals torch's values`, async () => {
      const sd = await openStateDict(bytesSource(file(name), name));
      const want = [...expected.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
      expect(sd.keys().sort()).toEqual(want.sort());
      for (const k of sd.keys()) {
        const t = await sd.read(k);
        const ref = expected.get(prefix + k)!;
        expect(t.shape, k).toEqual(ref.shape);
        expect(Array.from(toFloat32(t)), k).toEqual(Array.from(ref.data));
      }
    });
  }

  test("the detectron2 wrapper is unwrapped and non-tensor entries are reported, with original dtypes", async () => {
    const sd = await openStateDict(bytesSource(file("nested.pth"), "nested.pth"));
    expect(sd.topLevelKeys).toEqual(["model", "iteration", "note"]);
    expect(sd.info("b.c")).toEqual({ dtype: "F16", shape: [5] });
    expect(sd.info("b.d")).toEqual({ dtype: "I64", shape: [2, 3] });
  });

  test("views of one storage share it; bf16 and bool keep their dtypes", async () => {
    const ckpt = await TorchCheckpoint.open(bytesSource(file("views.pth"), "views.pth"));
    const root = ckpt.root as Map<string, { storage: unknown; dtype: string; stride: number[] }>;
    expect(root.get("shared_a")!.storage).toBe(root.get("shared_b")!.storage);
    expect(root.get("transposed")!.stride).toEqual([1, 6]);
    expect(root.get("bf16")!.dtype).toBe("BF16");
    expect(root.get("mask")!.dtype).toBe("BOOL");
  });

  test("reads from a file on disk and from a Blob give the same tensors", async () => {
    const src = await fileSource(join(DIR, "views.pth"));
    const fromFile = await openStateDict(src);
    const fromBlob = await openStateDict(blobSource(new Blob([file("views.pth")]), "views.pth"));
    for (const k of fromFile.keys()) expect((await fromFile.read(k)).bytes).toEqual((await fromBlob.read(k)).bytes);
    await src.close?.();
  });

  test("the legacy format is refused with instructions to re-save", async () => {
    const err = await rejection(openStateDict(bytesSource(file("legacy.pth"), "legacy.pth")));
    expect(err).toBeInstanceOf(LegacyCheckpointError);
    expect(String(err)).toMatch(/torch\.save\(torch\.load/);
  });

  for (const name of ["evil_reduce.pth", "evil_stack_global.pth", "evil_newobj.pth"]) {
    test(`${name} is refused without running anything`, async () => {
      const err = await rejection(openStateDict(bytesSource(file(name), name)));
      expect(err).toBeInstanceOf(UnsafePickleError);
    });
  }

  test("truncated checkpoints are FormatErrors", async () => {
    const bytes = file("nested.pth");
    for (const cut of [10, bytes.length / 2, bytes.length - 10]) {
      const err = await rejection(
        openStateDict(bytesSource(bytes.subarray(0, Math.floor(cut)), "cut.pth")).then(async (sd) => {
          for (const k of sd.keys()) await sd.read(k);
        }),
      );
      expect(err, `cut at ${cut}`).toBeInstanceOf(FormatError);
    }
  });
});

describe("safetensors", async () => {
  const expected = await expectedTensors();

  test("round trip through our writer is byte-identical per tensor", async () => {
    const st = await SafetensorsFile.open(bytesSource(file("expected.safetensors")));
    const entries = await Promise.all(
      st.keys().map(async (k) => {
        const t = await st.read(k);
        return { name: k, dtype: t.dtype, shape: t.shape, bytes: () => t.bytes };
      }),
    );
    const chunks: Uint8Array[] = [];
    for await (const c of safetensorsChunks(entries, { format: "pt" })) chunks.push(c);
    const again = await SafetensorsFile.open(blobSource(new Blob(chunks as BlobPart[]), "written"));
    expect(again.metadata).toEqual({ format: "pt" });
    for (const k of st.keys()) {
      expect(Array.from(toFloat32(await again.read(k)))).toEqual(Array.from(expected.get(k)!.data));
    }
  });

  const header = (h: unknown, data = 0) => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };

  for (const [what, bytes, pattern] of [
    ["a too-short file", new Uint8Array(4), /too short/],
    ["an impossible header length", Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0, 1, 2]), /header length/],
    ["a header that is not JSON", Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 123, 123]), /not valid UTF-8 JSON/],
    ["an unknown dtype", header({ x: { dtype: "F8", shape: [1], data_offsets: [0, 1] } }, 1), /unsupported dtype/],
    [
      "a size that does not match the shape",
      header({ x: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, 4),
      /4 bytes stored/,
    ],
    [
      "offsets past the data",
      header({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, 2),
      /outside the 2-byte/,
    ],
    [
      "overlapping tensors",
      header(
        {
          x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          y: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
        },
        8,
      ),
      /overlap/,
    ],
  ] as const) {
    test(`${what} is a FormatError`, async () => {
      const err = await rejection(SafetensorsFile.open(bytesSource(bytes as Uint8Array, "bad.safetensors")));
      expect(err).toBeInstanceOf(FormatError);
      expect(String(err)).toMatch(pattern);
    });
  }
});
