/**
 * The op suite's harness: fixtures written by fixtures/generate.py (PyTorch), one engine per options set, and
 * comparisons with explicit tolerances. Test files only touch the engine through here and the public API, so the
 * same suite can run on another device.
 */
import { expect } from "vitest";
import { Engine, type EngineOptions } from "../engine.js";
import type { Tensor } from "../tensor.js";

export interface FixtureTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface FixtureCase {
  name: string;
  params: Record<string, unknown>;
  inputs: string[];
  outputs: string[];
  t: (name: string) => FixtureTensor;
}

/** A fixture file's bytes: from disk under Node, from the test server in a browser. */
async function fixtureBytes(file: string): Promise<Uint8Array> {
  const url = new URL(`../../fixtures/${file}`, import.meta.url);
  if (url.protocol === "file:") {
    // A variable specifier keeps the browser bundler away from the Node module.
    const fs = "node:fs/promises";
    const { readFile } = (await import(/* @vite-ignore */ fs)) as typeof import("node:fs/promises");
    return new Uint8Array(await readFile(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fixture ${file}: HTTP ${res.status} from ${url}`);
  return new Uint8Array(await res.arrayBuffer());
}

export async function loadFixtures(op: string): Promise<FixtureCase[]> {
  const meta = JSON.parse(new TextDecoder().decode(await fixtureBytes(`${op}.json`))) as {
    cases: Omit<FixtureCase, "t">[];
  };
  const bytes = await fixtureBytes(`${op}.safetensors`);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const body = bytes.subarray(8 + headerLen);
  const tensor = (key: string): FixtureTensor => {
    const h = header[key];
    if (!h) throw new Error(`fixture ${op}: no tensor ${key}`);
    const raw = body.subarray(h.data_offsets[0], h.data_offsets[1]);
    const copy = new Uint8Array(raw).buffer;
    return { shape: h.shape, data: h.dtype === "I32" ? new Int32Array(copy) : new Float32Array(copy) };
  };
  return meta.cases.map((c) => ({ ...c, t: (name: string) => tensor(`${c.name}/${name}`) }));
}

/** The note on tests skipped for want of f16: the engine only has f16 tensors where the adapter has the feature. */
export const NO_F16 = "needs shader-f16; this adapter has none";

const engines = new Map<string, Promise<Engine>>();

export function testEngine(options: EngineOptions = {}): Promise<Engine> {
  const key = JSON.stringify(options);
  let e = engines.get(key);
  if (!e) {
    e = Engine.create(options);
    engines.set(key, e);
  }
  return e;
}

export function upload(e: Engine, t: FixtureTensor, dtype?: Tensor["dtype"]): Tensor {
  return e.tensor(t.data, t.shape, dtype ?? (t.data instanceof Int32Array ? "i32" : "f32"));
}

/**
 * Max absolute error relative to the reference's max absolute value (the oracle's metric), plus an absolute floor
 * for near-zero tensors. NaNs must sit at the same positions.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: FixtureTensor | ArrayLike<number>,
  tol: number,
  what = "",
): void {
  const exp = "data" in expected ? expected.data : expected;
  expect(actual.length, `${what}: length`).toBe(exp.length);
  let scale = 0;
  for (let i = 0; i < exp.length; i++) if (Number.isFinite(exp[i]!)) scale = Math.max(scale, Math.abs(exp[i]!));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < exp.length; i++) {
    const a = actual[i]!;
    const b = exp[i]!;
    if (Number.isNaN(b) || Number.isNaN(a)) {
      expect(Number.isNaN(a), `${what}: NaN mismatch at ${i} (got ${a}, expected ${b})`).toBe(Number.isNaN(b));
      continue;
    }
    const err = Math.abs(a - b);
    if (err > worst) {
      worst = err;
      at = i;
    }
  }
  const rel = worst / Math.max(scale, 1e-6);
  expect(
    rel,
    `${what}: max error ${worst} at ${at} (got ${actual[at]}, expected ${exp[at]}), relative ${rel}`,
  ).toBeLessThanOrEqual(tol);
}
