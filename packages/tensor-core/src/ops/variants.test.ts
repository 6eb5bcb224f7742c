import { describe, expect, test } from "vitest";
import { KernelVariantError } from "../errors.js";
import { kernelKey, pickVariant, runsOn, type Variant } from "./variants.js";

interface Call {
  n: number;
}

const variant = (name: string, flavor: Variant<Call>["flavor"], applies: (c: Call) => boolean): Variant<Call> => ({
  name,
  flavor,
  applies,
  encode: () => {},
});

// An op's list as matmul's: a special case first, then one general kernel per flavor.
const special = variant("special", "cpu", (c) => c.n % 4 === 0);
const cpuGeneral = variant("cpu-general", "cpu", () => true);
const gpuGeneral = variant("gpu-general", "gpu", () => true);
const fallback = variant("fallback", "any", () => true);

describe("kernel variant registry", () => {
  test("picks the first variant that runs on the flavor and applies, in the op's order", () => {
    expect(pickVariant("op", [special, cpuGeneral, gpuGeneral], "cpu", { n: 8 })).toBe(special);
    expect(pickVariant("op", [special, cpuGeneral, gpuGeneral], "cpu", { n: 7 })).toBe(cpuGeneral);
    expect(pickVariant("op", [cpuGeneral, special], "cpu", { n: 8 })).toBe(cpuGeneral);
  });

  test("skips variants of the other flavor; 'any' runs on both", () => {
    expect(pickVariant("op", [special, cpuGeneral, gpuGeneral], "gpu", { n: 8 })).toBe(gpuGeneral);
    expect(pickVariant("op", [special, fallback], "gpu", { n: 8 })).toBe(fallback);
    expect(pickVariant("op", [special, fallback], "cpu", { n: 3 })).toBe(fallback);
    expect([runsOn(fallback, "cpu"), runsOn(fallback, "gpu"), runsOn(special, "gpu")]).toEqual([true, true, false]);
  });

  test("the flavor passed in decides, whatever the adapter (an op's flavor option overrides the engine's)", () => {
    const list = [special, cpuGeneral, gpuGeneral];
    const engineFlavor = "cpu" as const;
    const override: "cpu" | "gpu" | undefined = "gpu";
    expect(pickVariant("op", list, override ?? engineFlavor, { n: 8 })).toBe(gpuGeneral);
    expect(pickVariant("op", list, engineFlavor, { n: 8 })).toBe(special);
  });

  test("no variant for the call is a KernelVariantError naming the op, the flavor and why each was passed over", () => {
    const pick = () => pickVariant("op", [special, gpuGeneral], "cpu", { n: 3 });
    expect(pick).toThrow(KernelVariantError);
    expect(pick).toThrow(
      /op: no kernel variant runs this call on the cpu flavor; tried special \(does not apply\), gpu-general \(gpu only\)/,
    );
    expect(() => pickVariant("op", [], "gpu", { n: 1 })).toThrow(/tried none/);
  });

  test("cache keys are the variant's name and every compile-time input, so different kernels never share one", () => {
    expect(kernelKey("gpu-tiled", { a: "f32", b: "f16", batchDims: 1, vec4: true })).toBe(
      "gpu-tiled|a=f32|b=f16|batchDims=1|vec4=true",
    );
    expect(kernelKey("cpu-register", { a: "f32" })).not.toBe(kernelKey("gpu-tiled", { a: "f32" }));
    expect(kernelKey("x", { a: "f32", b: "f32" })).not.toBe(kernelKey("x", { a: "f32", b: "f16" }));
  });
});
