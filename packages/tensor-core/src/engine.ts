import { BufferPool } from "./buffer-pool.js";
import { acquireGpu, noAdapterMessage } from "./device/acquire.js";
import { noteGpuWaitStart } from "./device/dawn-throttle.js";
import { DTYPE_BYTES, type DType, f32ToF16Bits } from "./dtype.js";
import {
  BufferSizeError,
  DeviceLostError,
  DTypeError,
  GpuValidationError,
  NoAdapterError,
  ShaderCompilationError,
  ShapeError,
  TensorCoreError,
} from "./errors.js";
import type { Program } from "./kernel.js";
import type { Profile, ProfileMode } from "./profile/profile.js";
import { Profiler } from "./profile/profiler.js";
import { assertShape, fmtShape, type Shape, sizeOf } from "./shape.js";
import { type Storage, Tensor } from "./tensor.js";

/**
 * Which family of kernels to use. CPU emulations (lavapipe, SwiftShader) are fastest with register-blocked
 * kernels that avoid workgroup memory; real GPUs want shared-memory tiles.
 */
export type KernelFlavor = "cpu" | "gpu";

export interface EngineOptions {
  powerPreference?: GPUPowerPreference;
  /** Force a kernel flavor instead of choosing by adapter (tests run both on any adapter). */
  flavor?: KernelFlavor;
  /** Largest storage binding ops may create; defaults to the adapter's maxStorageBufferBindingSize. Lower it to test chunking. */
  maxBindingBytes?: number;
  /** Free pooled memory kept for reuse, in bytes (default 1 GiB). */
  poolBytes?: number;
  /** Request `shader-f16` when the adapter has it (default true). */
  f16?: boolean;
}

type TensorData = Float32Array | Int32Array | Uint32Array | Uint16Array | number[];

const UNIFORM_SLOT = 256;
const ARENA_SLOTS = 256;
const MAX_DISPATCHES_PER_SUBMIT = 512;

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** The device, its memory pool, pipeline cache and command batching. One per GPU device. */
export class Engine {
  readonly flavor: KernelFlavor;
  readonly maxBindingBytes: number;
  readonly hasF16: boolean;
  private readonly pool: BufferPool;
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly pendingChecks: Promise<Error | null>[] = [];
  private readonly asyncErrors: Error[] = [];
  private encoder: GPUCommandEncoder | null = null;
  private dispatches = 0;
  private readonly arena: ArrayBuffer;
  private readonly arenaBuffer: GPUBuffer;
  private arenaUsed = 0;
  private readonly scopes: Set<Tensor>[] = [];
  private lostReason: string | null = null;
  private profiler: Profiler | null = null;
  private readonly retiredTextures: GPUTexture[] = [];

  private constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: GPUAdapterInfo,
    private readonly keepAlive: unknown,
    options: EngineOptions,
  ) {
    const limits = device.limits;
    this.hasF16 = device.features.has("shader-f16");
    this.flavor = options.flavor ?? (isCpuAdapter(adapterInfo) ? "cpu" : "gpu");
    this.maxBindingBytes = Math.min(
      options.maxBindingBytes ?? Number.POSITIVE_INFINITY,
      limits.maxStorageBufferBindingSize,
    );
    this.pool = new BufferPool(
      device,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      options.poolBytes ?? 2 ** 30,
    );
    this.arena = new ArrayBuffer(UNIFORM_SLOT * ARENA_SLOTS);
    this.arenaBuffer = device.createBuffer({
      size: this.arena.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.lost.then((info) => {
      if (info.reason !== "destroyed") this.lostReason = `${info.reason}: ${info.message}`;
      else this.lostReason ??= "the device was destroyed";
    });
    device.addEventListener("uncapturederror", (ev) => {
      this.asyncErrors.push(new GpuValidationError((ev as GPUUncapturedErrorEvent).error.message));
    });
  }

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const { gpu, runtime } = await acquireGpu();
    const adapter = await gpu.requestAdapter(
      options.powerPreference ? { powerPreference: options.powerPreference } : undefined,
    );
    if (!adapter) throw new NoAdapterError(noAdapterMessage(runtime));
    // Ask for the adapter's own limits: the defaults (e.g. 128 MiB buffers) are far below what models need.
    const requiredLimits: Record<string, number> = {};
    for (const name of [
      "maxStorageBufferBindingSize",
      "maxBufferSize",
      "maxComputeWorkgroupStorageSize",
      "maxComputeInvocationsPerWorkgroup",
      "maxComputeWorkgroupSizeX",
      "maxStorageBuffersPerShaderStage",
    ] as const) {
      requiredLimits[name] = adapter.limits[name];
    }
    const requiredFeatures: GPUFeatureName[] = [];
    if (options.f16 !== false && adapter.features.has("shader-f16")) requiredFeatures.push("shader-f16");
    // Profiles use it when present; asking for it costs nothing until a pass writes timestamps.
    if (adapter.features.has("timestamp-query")) requiredFeatures.push("timestamp-query");
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    return new Engine(device, adapter.info, gpu, options);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  private assertAlive(): void {
    if (this.lostReason) throw new DeviceLostError(`the GPU device is lost (${this.lostReason}); create a new Engine`);
  }

  // ---- memory ----------------------------------------------------------------------------------------------

  /** An uninitialised tensor (contents undefined until an op writes it). */
  empty(shape: Shape, dtype: DType = "f32"): Tensor {
    this.assertAlive();
    assertShape("empty", shape);
    const bytes = sizeOf(shape) * DTYPE_BYTES[dtype];
    if (bytes > this.limits.maxBufferSize) {
      throw new BufferSizeError(
        `tensor ${fmtShape(shape)} ${dtype} needs ${bytes} bytes, over this adapter's maxBufferSize ${this.limits.maxBufferSize}`,
      );
    }
    const storage: Storage = { buffer: this.pool.acquire(bytes), refs: 1 };
    return this.adopt(new Tensor(this, [...shape], dtype, storage));
  }

  zeros(shape: Shape, dtype: DType = "f32"): Tensor {
    const t = this.empty(shape, dtype);
    this.commandEncoder().clearBuffer(t.buffer, 0, t.buffer.size);
    return t;
  }

  /** Uploads data. Float32 data becomes f16 when dtype is "f16" (round to nearest even); Uint16Array is taken as f16 bits. */
  tensor(
    data: TensorData,
    shape: Shape,
    dtype: DType = data instanceof Int32Array ? "i32" : data instanceof Uint32Array ? "u32" : "f32",
  ): Tensor {
    assertShape("tensor", shape);
    const n = sizeOf(shape);
    if (data.length !== n) {
      throw new ShapeError(`tensor: ${data.length} values given for shape ${fmtShape(shape)} (${n} elements)`);
    }
    const bytes = this.toBytes(data, dtype);
    const t = this.empty(shape, dtype);
    this.write(t, bytes);
    return t;
  }

  private toBytes(data: TensorData, dtype: DType): ArrayBufferView {
    switch (dtype) {
      case "f32":
        if (data instanceof Int32Array || data instanceof Uint32Array || data instanceof Uint16Array) {
          throw new DTypeError(`tensor: ${data.constructor.name} data cannot be uploaded as f32; pass a Float32Array`);
        }
        return data instanceof Float32Array ? data : Float32Array.from(data);
      case "i32":
      case "u32": {
        const Ctor = dtype === "i32" ? Int32Array : Uint32Array;
        if (data instanceof Float32Array || data instanceof Uint16Array) {
          throw new DTypeError(
            `tensor: ${data.constructor.name} data cannot be uploaded as ${dtype}; pass an ${Ctor.name}`,
          );
        }
        if (Array.isArray(data) && data.some((v) => !Number.isInteger(v))) {
          throw new DTypeError(`tensor: non-integer values cannot be uploaded as ${dtype}`);
        }
        return data instanceof Ctor ? data : Ctor.from(data);
      }
      case "f16": {
        if (data instanceof Uint16Array) return data;
        if (data instanceof Int32Array || data instanceof Uint32Array) {
          throw new DTypeError("tensor: integer data cannot be uploaded as f16; pass a Float32Array");
        }
        if (!this.hasF16)
          throw new DTypeError("tensor: this adapter has no shader-f16 feature, so f16 tensors are unavailable");
        const out = new Uint16Array(data.length);
        for (let i = 0; i < data.length; i++) out[i] = f32ToF16Bits(data[i]!);
        return out;
      }
    }
  }

  private write(t: Tensor, bytes: ArrayBufferView): void {
    // queue.writeBuffer runs before commands still in the open encoder; one of them may read the pooled buffer we
    // are about to overwrite (from a tensor disposed meanwhile), so submit them first.
    this.flush();
    const aligned = bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes);
    this.device.queue.writeBuffer(t.buffer, 0, aligned.buffer, aligned.byteOffset, aligned.byteLength);
  }

  /** @internal */
  releaseBuffer(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  /** @internal Destroys a texture once the commands encoded so far, which may read it, are submitted. */
  releaseTexture(texture: GPUTexture): void {
    this.retiredTextures.push(texture);
  }

  /** @internal Registers a new tensor with the innermost open scope. */
  adopt(t: Tensor): Tensor {
    this.scopes[this.scopes.length - 1]?.add(t);
    return t;
  }

  /**
   * Runs fn and disposes every tensor created inside it, except those it returns (a tensor, or an array/object of
   * tensors), which move to the enclosing scope. Works with async functions too.
   */
  scope<T>(fn: () => T): T {
    const created = new Set<Tensor>();
    this.scopes.push(created);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.closeScope(created, undefined);
      throw e;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          this.closeScope(created, value);
          return value;
        },
        (e) => {
          this.closeScope(created, undefined);
          throw e;
        },
      ) as T;
    }
    this.closeScope(created, result);
    return result;
  }

  /** Takes a tensor out of every open scope, so it outlives them (caches, weights loaded inside a scope). */
  keep<T extends Tensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  private closeScope(created: Set<Tensor>, result: unknown): void {
    const idx = this.scopes.lastIndexOf(created);
    if (idx >= 0) this.scopes.splice(idx, 1);
    const keep = new Set<Tensor>();
    collectTensors(result, keep);
    for (const t of created) if (!keep.has(t)) t.dispose();
    const parent = this.scopes[this.scopes.length - 1];
    if (parent) for (const t of keep) if (created.has(t)) parent.add(t);
  }

  memory(): { liveBytes: number; freeBytes: number } {
    return this.pool.stats();
  }

  // ---- kernels --------------------------------------------------------------------------------------------

  private commandEncoder(): GPUCommandEncoder {
    this.assertAlive();
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private pipeline(program: Program): CachedPipeline {
    const cacheKey = `${program.name}|${program.key}`;
    const hit = this.pipelines.get(cacheKey);
    if (hit) return hit;
    const code = program.wgsl();
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform" } },
    ];
    let binding = 1;
    for (const _ of program.inputs) {
      entries.push({ binding: binding++, visibility: GPUShaderStage.COMPUTE, buffer: { type: "read-only-storage" } });
    }
    for (const _ of program.outputs) {
      entries.push({ binding: binding++, visibility: GPUShaderStage.COMPUTE, buffer: { type: "storage" } });
    }
    for (const _ of program.textures ?? []) {
      entries.push({
        binding: binding++,
        visibility: GPUShaderStage.COMPUTE,
        texture: { sampleType: "unfilterable-float" },
      });
    }
    for (const _ of program.storageTextures ?? []) {
      entries.push({
        binding: binding++,
        visibility: GPUShaderStage.COMPUTE,
        storageTexture: { access: "write-only", format: "rgba32float" },
      });
    }
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ code, label: program.name });
    const layout = this.device.createBindGroupLayout({ entries, label: program.name });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
      label: program.name,
    });
    const scopeError = this.device.popErrorScope();
    this.pendingChecks.push(
      Promise.all([module.getCompilationInfo(), scopeError]).then(([info, err]) => {
        const messages = info.messages
          .filter((m) => m.type === "error")
          .map((m) => ({ line: m.lineNum, message: m.message, source: code.split("\n")[m.lineNum - 1] ?? "" }));
        if (messages.length) return new ShaderCompilationError(program.name, messages, code);
        if (err) return new ShaderCompilationError(program.name, [{ line: 0, message: err.message, source: "" }], code);
        return null;
      }),
    );
    const cached = { pipeline, layout };
    this.pipelines.set(cacheKey, cached);
    return cached;
  }

  // ---- profiling ------------------------------------------------------------------------------------------

  /**
   * Starts timing every dispatch until stopProfile(). Uses GPU timestamp queries when the device has them (lavapipe
   * and most GPUs do); otherwise, or with mode "submit", submits each dispatch alone and times it on the CPU clock.
   */
  startProfile(mode?: ProfileMode): void {
    if (this.profiler) throw new TensorCoreError("startProfile: a profile is already running; stopProfile() first");
    const has = this.device.features.has("timestamp-query");
    if (mode === "timestamp" && !has) {
      throw new TensorCoreError('startProfile: this device has no timestamp-query feature; use mode "submit"');
    }
    this.flush();
    this.profiler = new Profiler(this.device, MAX_DISPATCHES_PER_SUBMIT, mode ?? (has ? "timestamp" : "submit"));
  }

  get profiling(): boolean {
    return this.profiler !== null;
  }

  /**
   * Names the stage that the following dispatches belong to in the running profile. With a profile it first waits
   * for the work encoded so far, so each stage's wall time holds its own GPU work; without one it does nothing.
   */
  async stage(name: string): Promise<void> {
    if (!this.profiler) return;
    await this.sync();
    this.profiler.stage(name);
  }

  /** Waits for the work encoded so far and returns the profile of everything since startProfile(). */
  async stopProfile(): Promise<Profile> {
    const p = this.profiler;
    if (!p) throw new TensorCoreError("stopProfile: no profile is running; call startProfile() first");
    await this.sync();
    this.profiler = null;
    return p.finish();
  }

  // ---- dispatch -------------------------------------------------------------------------------------------

  /** Encodes one dispatch. Work is batched and submitted on flush(), read() or when a batch is full. */
  run(program: Program): void {
    for (const b of [...program.inputs, ...program.outputs]) {
      if (b.size > this.maxBindingBytes) {
        throw new BufferSizeError(
          `${program.name}: a ${b.size}-byte operand exceeds the ${this.maxBindingBytes}-byte storage binding limit of this adapter; ` +
            "this op does not split its operands, so reduce the input size",
        );
      }
    }
    const firstUse = !this.pipelines.has(`${program.name}|${program.key}`);
    const { pipeline, layout } = this.pipeline(program);
    const uniformBytes = Math.max(16, program.params.length * 4);
    const slots = Math.ceil(uniformBytes / UNIFORM_SLOT);
    if (
      this.arenaUsed + slots * UNIFORM_SLOT > this.arena.byteLength ||
      this.dispatches >= MAX_DISPATCHES_PER_SUBMIT ||
      this.profiler?.full
    ) {
      this.flush();
    }
    const offset = this.arenaUsed;
    const view = new DataView(this.arena, offset, slots * UNIFORM_SLOT);
    program.params.forEach(([name, type, value], i) => {
      if (type === "f32") view.setFloat32(i * 4, value, true);
      else if (type === "i32") view.setInt32(i * 4, value, true);
      else {
        if (value < 0 || !Number.isInteger(value))
          throw new TypeError(`${program.name}: param ${name}=${value} is not a u32`);
        view.setUint32(i * 4, value, true);
      }
    });
    this.arenaUsed += slots * UNIFORM_SLOT;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arenaBuffer, offset, size: uniformBytes } },
    ];
    let binding = 1;
    for (const b of [...program.inputs, ...program.outputs]) {
      entries.push({ binding: binding++, resource: { buffer: b.buffer, offset: b.offset, size: b.size } });
    }
    for (const view of [...(program.textures ?? []), ...(program.storageTextures ?? [])]) {
      entries.push({ binding: binding++, resource: view });
    }
    const bindGroup = this.device.createBindGroup({ layout, entries });
    const pass = this.commandEncoder().beginComputePass(this.profiler?.beginDispatch(program, firstUse));
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y, z] = program.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.dispatches++;
    if (this.profiler?.mode === "submit") this.flush();
  }

  /** Copies bytes between tensors on the GPU (offsets and size in bytes, multiples of 4). */
  copy(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, bytes: number): void {
    this.commandEncoder().copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
  }

  /** Submits everything encoded so far. */
  flush(): void {
    if (!this.encoder) {
      for (const t of this.retiredTextures.splice(0)) t.destroy();
      return;
    }
    if (this.arenaUsed) this.device.queue.writeBuffer(this.arenaBuffer, 0, this.arena, 0, this.arenaUsed);
    const submitted = this.profiler?.beforeSubmit(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    submitted?.();
    this.pool.destroyRetired();
    for (const t of this.retiredTextures.splice(0)) t.destroy();
    this.encoder = null;
    this.arenaUsed = 0;
    this.dispatches = 0;
  }

  /** Waits until the GPU has finished all submitted work, then reports any shader or validation error. */
  async sync(): Promise<void> {
    this.flush();
    noteGpuWaitStart();
    await this.device.queue.onSubmittedWorkDone();
    await this.checkErrors();
  }

  private async checkErrors(): Promise<void> {
    const checks = this.pendingChecks.splice(0);
    const results = await Promise.all(checks);
    const first = results.find((r) => r !== null) ?? this.asyncErrors.shift();
    this.asyncErrors.length = 0;
    if (first) throw first;
    this.assertAlive();
  }

  /** @internal Reads a tensor's bytes (rounded up to 4). */
  async readBytes(t: Tensor): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(t.byteLength / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.commandEncoder().copyBufferToBuffer(t.buffer, 0, staging, 0, size);
    this.flush();
    try {
      noteGpuWaitStart();
      await staging.mapAsync(GPUMapMode.READ);
      await this.checkErrors();
      return staging.getMappedRange().slice(0);
    } catch (e) {
      await this.checkErrors();
      throw this.lostReason ? new DeviceLostError(`the GPU device is lost (${this.lostReason})`) : e;
    } finally {
      if (staging.mapState === "mapped") staging.unmap();
      staging.destroy();
    }
  }

  /** Releases pooled memory and the device. Tensors of this engine are unusable afterwards. */
  destroy(): void {
    this.flush();
    this.pool.trim();
    this.device.destroy();
    void this.keepAlive;
  }
}

function isCpuAdapter(info: GPUAdapterInfo): boolean {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return (
    (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /llvmpipe|lavapipe|swiftshader|software/.test(text)
  );
}

function padTo4(bytes: ArrayBufferView): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return out;
}

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}
