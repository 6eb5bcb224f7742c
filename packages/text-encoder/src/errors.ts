/**
 * Every error the text encoder throws on purpose is a TextEncoderError, so callers can tell ours from bugs and from
 * the engine's TensorCoreErrors.
 */
export class TextEncoderError extends Error {
  override name = "TextEncoderError";
}
