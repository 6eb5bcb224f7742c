/**
 * Every error @fcclip/core throws on purpose is an FcclipError, so callers can tell ours from bugs and from the
 * engine's TensorCoreErrors.
 */
export class FcclipError extends Error {
  override name = "FcclipError";
}
