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
  OUTPUT_REFUSED: 'an output path would replace files flexq did not write, or a protected folder',
  FILE_SYSTEM: 'the file system refused a read or write (permissions, space, a missing folder)',
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

/** What each file-system error code means for the user, and what to do about it. */
const FILE_SYSTEM_ERRORS: Record<string, string> = {
  EACCES: 'permission denied; check the folder\'s permissions or choose another path',
  EPERM: 'operation not permitted; check the folder\'s permissions or choose another path',
  EROFS: 'the file system is read-only; choose a path on a writable disk',
  ENOSPC: 'no space left on the device; free some space or choose another disk (nothing partial was kept)',
  EDQUOT: 'the disk quota is exhausted; free some space or choose another disk',
  ENOENT: 'no such file or folder; check the path',
  ENOTDIR: 'a part of the path is a file, not a folder; check the path',
  EISDIR: 'a folder is where a file was expected; give a file path',
  EEXIST: 'something already exists at this path; move it away or choose another path',
  ENAMETOOLONG: 'the path is too long; choose a shorter one',
  EMFILE: 'too many open files; raise the limit (ulimit -n) and run again',
};

/** A Node file-system error turned into a FlexqError that names the path and what to do; anything else as it is. */
export function fromFileSystemError(e: unknown): unknown {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  const advice = typeof err?.code === 'string' ? FILE_SYSTEM_ERRORS[err.code] : undefined;
  if (!advice || typeof err.syscall !== 'string') return e;
  const path = err.dest ? `${err.path} → ${err.dest}` : (err.path ?? '(unknown path)');
  return new FlexqError('FILE_SYSTEM', `${path}: ${err.syscall} failed: ${advice} (${err.code})`);
}
