import { TensorCoreError } from "../errors.js";

/** A weights file is malformed, truncated, or not in the format it claims. */
export class FormatError extends TensorCoreError {
  override name = "FormatError";
}

/** A pickle asked for something outside the allow-list (arbitrary code execution is refused, never attempted). */
export class UnsafePickleError extends TensorCoreError {
  override name = "UnsafePickleError";
}

/** A file in the pre-1.6 (non-zip) torch.save format. */
export class LegacyCheckpointError extends TensorCoreError {
  override name = "LegacyCheckpointError";
}
