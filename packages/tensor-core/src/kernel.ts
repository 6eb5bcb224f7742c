import type { DType } from "./dtype.js";

export type ParamType = "u32" | "i32" | "f32";
/** One uniform scalar: name, WGSL type, value. The same list generates the WGSL struct and fills the buffer. */
export type Param = readonly [name: string, type: ParamType, value: number];

/** A window of a GPU buffer bound as a storage buffer. */
export interface BufferBinding {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/**
 * Everything the engine needs to run one compute dispatch (the onnxruntime-web "program info" idea):
 * `key` identifies the generated WGSL, so `wgsl()` only runs on a pipeline-cache miss.
 */
export interface Program {
  name: string;
  key: string;
  wgsl: () => string;
  params: readonly Param[];
  /** Bound read-only at bindings 1..n in this order. */
  inputs: readonly BufferBinding[];
  /** Bound read-write after the inputs. */
  outputs: readonly BufferBinding[];
  /** Float textures (texture_2d<f32>, unfilterable) bound after the outputs. */
  textures?: readonly GPUTextureView[];
  /** rgba32float storage textures (texture_storage_2d<rgba32float, write>) bound after the textures. */
  storageTextures?: readonly GPUTextureView[];
  workgroups: readonly [number, number, number];
  /** What a profile reports it under; tensor-core's own ops are classified by name (profile/profile.ts). */
  kind?: string;
  /** The dispatch's shape class in a profile (e.g. a matmul's M×K·K→N). */
  label?: string;
}

export function paramsStruct(params: readonly Param[]): string {
  const fields = params.length ? params.map(([n, t]) => `  ${n}: ${t},`).join("\n") : "  _unused: u32,";
  return `struct Params {\n${fields}\n}\n@group(0) @binding(0) var<uniform> p: Params;\n`;
}

/** Storage declarations in binding order: inputs (read) then outputs (read_write). */
export function storageDecls(inputs: readonly [string, string][], outputs: readonly [string, string][]): string {
  let binding = 1;
  const lines: string[] = [];
  for (const [name, type] of inputs)
    lines.push(`@group(0) @binding(${binding++}) var<storage, read> ${name}: array<${type}>;`);
  for (const [name, type] of outputs) {
    lines.push(`@group(0) @binding(${binding++}) var<storage, read_write> ${name}: array<${type}>;`);
  }
  return `${lines.join("\n")}\n`;
}

export function enableF16(dtypes: readonly DType[]): string {
  return dtypes.includes("f16") ? "enable f16;\n" : "";
}

/** Workgroup size for 1-D kernels: within SwiftShader's 256 limit and a multiple of every subgroup width seen. */
export const WG1D = 64;
const MAX_DIM = 65535;

/** Spreads `count` workgroups over x and y so no dimension exceeds the 65535 limit. */
export function grid(count: number): [number, number, number] {
  if (count <= MAX_DIM) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / MAX_DIM);
  return [Math.ceil(count / y), y, 1];
}

/** Linear invocation index for kernels dispatched with grid(); pair with `@workgroup_size(${WG1D})`. */
export const FLAT_ID = `
fn flat_id(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return (wid.x + wid.y * nwg.x) * ${WG1D}u + lid.x;
}
`;

export const MAIN_1D = `@compute @workgroup_size(${WG1D})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;
