import type { KernelFlavor } from "../engine.js";
import { KernelVariantError } from "../errors.js";

/**
 * One way of running an op. `flavor` says which adapters its kernels suit: "cpu" for lavapipe-like ones
 * (register/texture kernels without workgroup memory), "gpu" for real GPUs (shared-memory tiles, a workgroup per row),
 * "any" for kernels that are right everywhere. An op lists its variants in order of preference; pickVariant takes
 * the first that runs on the flavor and applies to the call.
 */
export interface Variant<A> {
  readonly name: string;
  readonly flavor: KernelFlavor | "any";
  /** Whether this variant can run these arguments (shapes, layouts, prepared operands). */
  applies(args: A): boolean;
  /** Encodes the call's dispatches. */
  encode(args: A): void;
}

/** Whether a variant's kernels may run on an engine (or a call) of this flavor. */
export function runsOn<A>(variant: Variant<A>, flavor: KernelFlavor): boolean {
  return variant.flavor === "any" || variant.flavor === flavor;
}

/** The first variant in `variants` that runs on `flavor` and applies to `args`. */
export function pickVariant<A>(op: string, variants: readonly Variant<A>[], flavor: KernelFlavor, args: A): Variant<A> {
  const picked = variants.find((v) => runsOn(v, flavor) && v.applies(args));
  if (picked) return picked;
  const tried = variants.map((v) => `${v.name} (${runsOn(v, flavor) ? "does not apply" : `${v.flavor} only`})`);
  throw new KernelVariantError(
    `${op}: no kernel variant runs this call on the ${flavor} flavor; tried ${tried.join(", ") || "none"}`,
  );
}

/** A kernel's compile-time inputs: everything its generated WGSL depends on besides the variant itself. */
export type KernelSpec = Readonly<Record<string, string | number | boolean>>;

/**
 * The pipeline cache key of a variant's kernel, made from its name and spec: two kernels share a key only when the
 * same variant generates them from the same inputs.
 */
export function kernelKey(variant: string, spec: KernelSpec): string {
  return [variant, ...Object.entries(spec).map(([k, v]) => `${k}=${v}`)].join("|");
}
