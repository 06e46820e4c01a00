// The one catalogue of user-facing errors. Codes are stable: scripts and tests match on them.
export const ERROR_CODES = {
  FILE_NOT_FOUND: 'a file or folder named on the command line does not exist',
  MODEL_PARSE: 'a model file could not be decoded',
  MODEL_INVALID: 'a model decoded but breaks its format\'s rules',
  UNSUPPORTED_OP: 'the model uses an operator flexq does not support',
  UNSUPPORTED_ATTR: 'an operator uses an attribute value flexq does not support',
  MISSING_TENSOR: 'a node reads a tensor nothing produces',
  SHAPE: 'tensor shapes do not fit together',
  DATA_EMPTY: 'a data source holds no samples',
  DATA_SHAPE: 'data does not have the shape the model expects',
  DATA_READ: 'a data file could not be read or decoded',
  BAD_ARGUMENT: 'a command-line argument is malformed',
  BACKEND_UNAVAILABLE: 'the requested tensor backend is not installed or not available in this version',
  DEVICE_MISSING: 'an executor needs hardware this machine does not have (a CUDA GPU)',
  TOOL_FAILED: 'an external build tool or runner (nvcc, the GPU runner) failed',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error a user can act on: the message names the file, node or tensor, what was expected and what was found. */
export class FlexqError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'FlexqError';
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new FlexqError(code, message);
}
