/** A NumPy .npy (format 1.0, C order) of raw little-endian bytes with dtype `descr` ('<f4', '|i1', …). */
function encodeNpy(descr: string, shape: readonly number[], bytes: Uint8Array): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + bytes.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(bytes, 10 + header.length);
  return out;
}

export const encodeNpyFloat32 = (shape: readonly number[], data: Float32Array): Uint8Array =>
  encodeNpy('<f4', shape, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));

export const encodeNpyInt8 = (shape: readonly number[], data: Int8Array): Uint8Array =>
  encodeNpy('|i1', shape, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
