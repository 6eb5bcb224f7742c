import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { TensorCoreError } from "../errors.js";
import { bytesSource } from "./byte-source.js";
import { openStateDict } from "./state-dict.js";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "io");
const SEEDS = ["nested.pth", "views.pth", "expected.safetensors", "clip_scripted.pt"];
const ROUNDS = 400;

/** mulberry32: a tiny seeded PRNG so every failure can be replayed from its round number. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const bytes = src.slice();
  const pick = (n: number) => Math.floor(rand() * n);
  switch (pick(4)) {
    case 0:
      for (let i = 0, n = 1 + pick(8); i < n; i++) bytes[pick(bytes.length)] = pick(256);
      return bytes;
    case 1:
      return bytes.subarray(0, pick(bytes.length));
    case 2: {
      // A plausible-looking but hostile 32-bit length or offset.
      const at = pick(bytes.length - 4);
      new DataView(bytes.buffer).setUint32(at, [0xffffffff, 0x7fffffff, 0x10000, pick(2 ** 32)][pick(4)]!, true);
      return bytes;
    }
    default: {
      const at = pick(bytes.length);
      const out = new Uint8Array(bytes.length + 16);
      out.set(bytes.subarray(0, at));
      for (let i = 0; i < 16; i++) out[at + i] = pick(256);
      out.set(bytes.subarray(at), at + 16);
      return out;
    }
  }
}

for (const seed of SEEDS) {
  test(`fuzz: ${ROUNDS} mutations of ${seed} either load or fail with a typed error`, async () => {
    const original = new Uint8Array(readFileSync(join(DIR, seed)));
    const rand = rng(seed.length * 7919);
    let loaded = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const bytes = mutate(original, rand);
      try {
        const sd = await openStateDict(bytesSource(bytes, `${seed}#${round}`));
        for (const k of sd.keys()) await sd.read(k);
        loaded++;
      } catch (e) {
        if (!(e instanceof TensorCoreError)) {
          throw new Error(`round ${round} of ${seed}: untyped ${(e as Error).name}: ${(e as Error).message}`);
        }
      }
    }
    // Mutations in tensor data still load; the readers must not reject everything either.
    expect(loaded).toBeGreaterThan(0);
  });
}
