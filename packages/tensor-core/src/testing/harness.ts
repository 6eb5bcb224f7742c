/**
 * The op suite's harness: fixtures written by fixtures/generate.py (PyTorch), one engine per options set, and
 * comparisons with explicit tolerances. Test files only touch the engine through here and the public API, so the
 * same suite can run on another device.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { Engine, type EngineOptions } from "../engine.js";
import type { Tensor } from "../tensor.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures");

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

export function loadFixtures(op: string): FixtureCase[] {
  const meta = JSON.parse(readFileSync(join(FIXTURES, `${op}.json`), "utf8")) as { cases: Omit<FixtureCase, "t">[] };
  const bytes = readFileSync(join(FIXTURES, `${op}.safetensors`));
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString("utf8")) as Record<
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
