import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fail } from '../errors.js';
import { allocate, type DType, type TensorData } from '../ir/dtype.js';
import { buildGraph } from '../ir/build.js';
import type { Attrs, Graph, Node, Value } from '../ir/graph.js';
import type { Shape } from '../ir/shape.js';
import { writeFileAtomic } from '../fs-atomic.js';
import {
  dequantizeBias,
  dequantizeWeight,
  type ActivationQuant,
  type QuantInfo,
  type QuantizedBias,
  type QuantizedGraph,
  type QuantizedWeight,
} from './quantized-graph.js';

/*
 * The .fq file: a QuantizedGraph on disk.
 *
 *   offset  size  content
 *   0       8     magic "FLEXQFQ\0"
 *   8       4     format version, uint32 little-endian (FQ_VERSION)
 *   12      4     header length H in bytes, uint32 little-endian
 *   16      32    SHA-256 of every byte from offset 48 to the end
 *   48      H     header: UTF-8 JSON (FqHeader below), padded with spaces to a multiple of 8
 *   48+H'   …     data: the tensors' bytes, little-endian, each starting at a multiple of 8;
 *                 a Blob {offset, length} in the header is relative to the start of the data.
 *
 * The graph's source is not stored (info.model names the model); a loaded graph's source is the .fq path.
 * Quantized weights are stored only as integers (int8) with their grid; biases as int32 with their
 * scale; other constants as their typed data. Non-finite numbers in attributes (Clip's ±∞) are
 * written as {"$number": "Infinity"}. A reader accepts versions ≤ its own; the checksum catches edits.
 */
export const FQ_MAGIC = 'FLEXQFQ\0';
export const FQ_VERSION = 1;
const PREFIX = 48;

interface Blob { readonly offset: number; readonly length: number }
interface FqValue { readonly name: string; readonly dtype: DType; readonly shape: Shape; readonly blob?: Blob }
interface FqHeader {
  readonly info: QuantInfo;
  readonly graph: { name: string; inputs: readonly string[]; outputs: readonly string[]; nodes: readonly Node[]; values: FqValue[] };
  readonly activations: Record<string, ActivationQuant>;
  readonly weights: Record<string, Omit<QuantizedWeight, 'values'> & { blob: Blob }>;
  readonly biases: Record<string, { scale: number; blob: Blob }>;
}

const encodeNumber = (_: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v);
const decodeNumber = (_: string, v: unknown) =>
  v !== null && typeof v === 'object' && '$number' in v ? Number((v as { $number: string }).$number) : v;

/** Collects tensor bytes into one 8-aligned data section. */
class DataSection {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  add(data: TensorData): Blob {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const blob = { offset: this.size, length: bytes.length };
    this.parts.push(bytes);
    const pad = (8 - (bytes.length % 8)) % 8;
    if (pad) this.parts.push(new Uint8Array(pad));
    this.size += bytes.length + pad;
    return blob;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export function encodeFq(q: QuantizedGraph): Uint8Array {
  const data = new DataSection();
  const stored = new Set([...q.weights.keys(), ...q.biases.keys()]);
  const values: FqValue[] = [...q.graph.values.values()].map((v) => ({
    name: v.name,
    dtype: v.dtype,
    shape: v.shape,
    ...(v.data && !stored.has(v.name) ? { blob: data.add(v.data) } : {}),
  }));
  const header: FqHeader = {
    info: q.info,
    graph: { name: q.graph.name, inputs: q.graph.inputs, outputs: q.graph.outputs, nodes: q.graph.nodes, values },
    activations: Object.fromEntries(q.activations),
    weights: Object.fromEntries([...q.weights].map(([k, { values: ints, ...grid }]) => [k, { ...grid, blob: data.add(ints) }])),
    biases: Object.fromEntries([...q.biases].map(([k, b]) => [k, { scale: b.scale, blob: data.add(b.values) }])),
  };
  let json = JSON.stringify(header, encodeNumber);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const body = new Uint8Array(headerBytes.length + data.bytes().length);
  body.set(headerBytes, 0);
  body.set(data.bytes(), headerBytes.length);
  const out = new Uint8Array(PREFIX + body.length);
  out.set(new TextEncoder().encode(FQ_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, FQ_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  out.set(createHash('sha256').update(body).digest(), 16);
  out.set(body, PREFIX);
  return out;
}

function readBlob(bytes: Uint8Array, dataStart: number, blob: Blob, dtype: DType, path: string, what: string): TensorData {
  if (blob.offset < 0 || dataStart + blob.offset + blob.length > bytes.length)
    fail('MODEL_INVALID', `${path}: ${what} points past the end of the file; the file is damaged`);
  const out = allocate(dtype, blob.length / allocate(dtype, 0).BYTES_PER_ELEMENT);
  new Uint8Array(out.buffer).set(bytes.subarray(dataStart + blob.offset, dataStart + blob.offset + blob.length));
  return out;
}

export function decodeFq(bytes: Uint8Array, path: string): QuantizedGraph {
  if (bytes.length < PREFIX || new TextDecoder().decode(bytes.subarray(0, 8)) !== FQ_MAGIC)
    fail('MODEL_PARSE', `${path}: not a flexq quantized graph (.fq): the file does not start with '${FQ_MAGIC.slice(0, 7)}'; make one with 'flexq quantize'`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version > FQ_VERSION)
    fail('MODEL_INVALID', `${path}: .fq format version ${version} was written by a newer flexq; this flexq reads versions up to ${FQ_VERSION}: upgrade flexq`);
  const headerLength = view.getUint32(12, true);
  if (PREFIX + headerLength > bytes.length)
    fail('MODEL_PARSE', `${path}: the file is truncated (header of ${headerLength} bytes, file of ${bytes.length}); write it again with 'flexq quantize'`);
  const digest = createHash('sha256').update(bytes.subarray(PREFIX)).digest();
  if (!digest.equals(Buffer.from(bytes.subarray(16, PREFIX))))
    fail('MODEL_INVALID', `${path}: checksum mismatch: the file was truncated, damaged or edited after flexq wrote it; quantize again`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX, PREFIX + headerLength)), decodeNumber) as FqHeader;
  const dataStart = PREFIX + headerLength;

  const weights = new Map<string, QuantizedWeight>(
    Object.entries(header.weights).map(([k, { blob, ...grid }]) => [k, { ...grid, values: readBlob(bytes, dataStart, blob, 'int8', path, `weight '${k}'`) as Int8Array }]),
  );
  const biases = new Map<string, QuantizedBias>(
    Object.entries(header.biases).map(([k, b]) => [k, { scale: b.scale, values: readBlob(bytes, dataStart, b.blob, 'int32', path, `bias '${k}'`) as Int32Array }]),
  );
  const constant = (v: FqValue): Value | undefined => {
    const w = weights.get(v.name);
    const b = biases.get(v.name);
    const data = w ? dequantizeWeight(w) : b ? dequantizeBias(b) : v.blob ? readBlob(bytes, dataStart, v.blob, v.dtype, path, `tensor '${v.name}'`) : undefined;
    return data ? { name: v.name, dtype: v.dtype, shape: v.shape, data } : undefined;
  };
  const g = header.graph;
  const byName = new Map(g.values.map((v) => [v.name, v]));
  const graph: Graph = buildGraph({
    name: g.name,
    source: path,
    inputs: g.inputs.map((i) => ({ name: i, dtype: byName.get(i)!.dtype, shape: byName.get(i)!.shape })),
    constants: g.values.map(constant).filter((v): v is Value => v !== undefined),
    nodes: g.nodes.map((n) => ({ ...n, attrs: n.attrs as Attrs })),
    outputs: g.outputs,
  });
  return { graph, activations: new Map(Object.entries(header.activations)), weights, biases, info: header.info };
}

export function writeFq(path: string, q: QuantizedGraph): void {
  writeFileAtomic(path, encodeFq(q));
}

export function readFq(path: string): QuantizedGraph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return fail('FILE_NOT_FOUND', `${path}: no such .fq file; make one with 'flexq quantize MODEL --calib DATA -o ${path}'`);
  }
  return decodeFq(bytes, path);
}

/** True when the bytes start like an .fq file (commands that take a model or an .fq decide with it). */
export function isFq(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === FQ_MAGIC;
}
