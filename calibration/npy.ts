import { fail } from '../src/errors.js';
import { formatShape, sizeOf } from '../src/ir/shape.js';

export type NpyValues =
  | Float32Array | Float64Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;

/** A parsed .npy array: C order, values in file order. */
export interface NpyArray {
  readonly descr: string;
  readonly shape: readonly number[];
  readonly integer: boolean;
  readonly values: NpyValues;
}

interface NpyDtype {
  readonly bytes: number;
  readonly integer: boolean;
  readonly view: (buffer: ArrayBuffer, byteOffset: number, length: number) => NpyValues;
}

// Little-endian only, as numpy writes on every common machine; '|' marks single-byte types.
const NPY_DTYPES: Readonly<Record<string, NpyDtype>> = {
  '<f4': { bytes: 4, integer: false, view: (b, o, n) => new Float32Array(b, o, n) },
  '<f8': { bytes: 8, integer: false, view: (b, o, n) => new Float64Array(b, o, n) },
  '|u1': { bytes: 1, integer: true, view: (b, o, n) => new Uint8Array(b, o, n) },
  '|i1': { bytes: 1, integer: true, view: (b, o, n) => new Int8Array(b, o, n) },
  '|b1': { bytes: 1, integer: true, view: (b, o, n) => new Uint8Array(b, o, n) },
  '<u2': { bytes: 2, integer: true, view: (b, o, n) => new Uint16Array(b, o, n) },
  '<i2': { bytes: 2, integer: true, view: (b, o, n) => new Int16Array(b, o, n) },
  '<u4': { bytes: 4, integer: true, view: (b, o, n) => new Uint32Array(b, o, n) },
  '<i4': { bytes: 4, integer: true, view: (b, o, n) => new Int32Array(b, o, n) },
  '<u8': { bytes: 8, integer: true, view: (b, o, n) => new BigUint64Array(b, o, n) },
  '<i8': { bytes: 8, integer: true, view: (b, o, n) => new BigInt64Array(b, o, n) },
};

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface NpyHeader {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  readonly dataStart: number;
}

/** Parses a whole .npy file (format versions 1, 2 and 3); `file` only names it in errors. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const header = readNpyHeader(bytes, file);
  const dtype = NPY_DTYPES[header.descr]
    ?? fail('DATA_READ', `${file}: dtype '${header.descr}' is not supported; supported: ${Object.keys(NPY_DTYPES).join(' ')} (convert with arr.astype('<f4')).`);
  if (header.fortranOrder) {
    fail('DATA_READ', `${file}: the array is stored in Fortran order; save it in C order (np.save(path, np.ascontiguousarray(arr))).`);
  }
  const length = sizeOf(header.shape);
  const available = bytes.byteLength - header.dataStart;
  if (length * dtype.bytes > available) {
    fail('DATA_READ', `${file}: truncated: shape ${formatShape(header.shape)} of ${header.descr} needs ${length * dtype.bytes} bytes of data, the file holds ${available}.`);
  }
  const body = alignedBody(bytes, header.dataStart, length * dtype.bytes, dtype.bytes);
  return { descr: header.descr, shape: header.shape, integer: dtype.integer, values: dtype.view(body.buffer as ArrayBuffer, body.byteOffset, length) };
}

function readNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.byteLength < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('DATA_READ', `${file}: not a .npy file (it does not start with \\x93NUMPY); save arrays with numpy.save.`);
  }
  const major = bytes[6];
  if (major < 1 || major > 3) fail('DATA_READ', `${file}: .npy format version ${major} is not supported; supported: 1, 2, 3.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Version 1 stores the header length in 2 bytes, versions 2 and 3 in 4.
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.byteLength) fail('DATA_READ', `${file}: truncated .npy header.`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  return { ...parseHeaderDict(text, file), dataStart };
}

/** Reads the Python dict literal of the header, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 49, 10), }. */
function parseHeaderDict(text: string, file: string): Omit<NpyHeader, 'dataStart'> {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined) {
    fail('DATA_READ', `${file}: cannot read the .npy header ${JSON.stringify(text.trim())}; structured dtypes are not supported.`);
  }
  const dims = shape.split(',').map((d) => d.trim()).filter((d) => d !== '').map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) fail('DATA_READ', `${file}: bad shape (${shape}) in the .npy header.`);
  return { descr, fortranOrder: fortran === 'True', shape: dims };
}

// Typed arrays need their offset to be a multiple of the element size; numpy pads headers to 64 bytes, but a Buffer may start anywhere.
function alignedBody(bytes: Uint8Array, start: number, byteLength: number, elementBytes: number): Uint8Array {
  const body = bytes.subarray(start, start + byteLength);
  return body.byteOffset % elementBytes === 0 ? body : new Uint8Array(body); // copies (Buffer.slice would not)
}
