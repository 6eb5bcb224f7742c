/** Every error the engine throws on purpose is a TensorCoreError, so callers can tell ours from bugs. */
export class TensorCoreError extends Error {
  override name = "TensorCoreError";
}

/** Operand shapes do not fit the op (wrong rank, mismatched dimensions, not broadcastable). */
export class ShapeError extends TensorCoreError {
  override name = "ShapeError";
}

/** An operand has a dtype the op does not accept, or data does not match the requested dtype. */
export class DTypeError extends TensorCoreError {
  override name = "DTypeError";
}

/** A tensor was used after dispose() (directly or by leaving the scope that owned it). */
export class DisposedTensorError extends TensorCoreError {
  override name = "DisposedTensorError";
}

/** No kernel variant of an op can run the call on this kernel flavor (an op's variant list does not cover it). */
export class KernelVariantError extends TensorCoreError {
  override name = "KernelVariantError";
}

/** A buffer would exceed the adapter's limits (maxBufferSize, or a binding over maxStorageBufferBindingSize). */
export class BufferSizeError extends TensorCoreError {
  override name = "BufferSizeError";
}

/** No WebGPU adapter could be obtained; the message says what to install or enable. */
export class NoAdapterError extends TensorCoreError {
  override name = "NoAdapterError";
}

/** The GPU device was lost (driver reset, destroy(), out of memory); the engine cannot be used any more. */
export class DeviceLostError extends TensorCoreError {
  override name = "DeviceLostError";
}

/** A generated shader failed to compile or a pipeline failed validation. Carries the offending WGSL line. */
export class ShaderCompilationError extends TensorCoreError {
  override name = "ShaderCompilationError";
  constructor(
    readonly kernel: string,
    readonly messages: readonly { line: number; message: string; source: string }[],
    readonly wgsl: string,
  ) {
    super(
      `kernel '${kernel}' failed to compile:\n${messages
        .map((m) => `  line ${m.line}: ${m.message}\n    > ${m.source.trim()}`)
        .join("\n")}`,
    );
  }
}

/** The device reported a validation or out-of-memory error while running work. */
export class GpuValidationError extends TensorCoreError {
  override name = "GpuValidationError";
}
