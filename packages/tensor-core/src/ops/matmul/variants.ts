import type { Variant } from "../variants.js";
import { cpuRegister } from "./cpu-register.js";
import type { TileCall } from "./geometry.js";
import { gpuTiled } from "./gpu-tiled.js";
import { textureFed } from "./texture.js";

/**
 * matmul's kernel variants in order of preference, each in its own file: texture-fed where a tile has a texture
 * operand (CPU adapters), register-blocked storage-buffer kernels for the other CPU tiles, workgroup tiles on GPUs.
 */
export const MATMUL_VARIANTS: readonly Variant<TileCall>[] = [textureFed, cpuRegister, gpuTiled];
