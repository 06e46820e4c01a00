import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { fail } from '../errors.js';
import { allocate, type DType, type TensorData } from '../ir/dtype.js';
import { buildGraph } from '../ir/build.js';
import type { Attrs, Graph, Node, Value } from '../ir/graph.js';
import { MAX_DIM, MAX_RANK } from '../ir/limits.js';
import { formatShape, isStatic, sizeOf, type Shape } from '../ir/shape.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { checkQuantizedGraph, GRID_BITS } from './check-quantized-graph.js';
import {
  dequantizeBias,
  dequantizeWeight,
  type ActivationQuant,
  type QuantInfo,
  type QuantizedBias,
  type QuantizedGraph,
  type QuantizedWeight,
} from '../ir/quantized-graph.js';

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
 * written as {"$number": "Infinity"}. Version 2 adds per-channel scales: a weight's or bias's optional
 * `channelScales` blob (float32, one per index of axis 0); flexq writes version 1 when no tensor has them, so such
 * files stay readable by older versions. A reader accepts versions ≤ its own; the checksum catches damage, and
 * the reader validates everything else (see "Reading" below), since an edited file can carry a fresh checksum.
 */
export const FQ_MAGIC = 'FLEXQFQ\0';
export const FQ_VERSION = 2;
/** The version a file without per-channel scales is written in (its format is unchanged since). */
const FQ_VERSION_PER_TENSOR = 1;
const PREFIX = 48;

interface Blob { readonly offset: number; readonly length: number }
interface FqValue { readonly name: string; readonly dtype: DType; readonly shape: Shape; readonly blob?: Blob }
interface FqHeader {
  readonly info: QuantInfo;
  readonly graph: { name: string; inputs: readonly string[]; outputs: readonly string[]; nodes: readonly Node[]; values: FqValue[] };
  readonly activations: Record<string, ActivationQuant>;
  readonly weights: Record<string, Omit<QuantizedWeight, 'values' | 'channelScales'> & { blob: Blob; channelScales?: Blob }>;
  readonly biases: Record<string, { scale: number; blob: Blob; channelScales?: Blob }>;
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
    weights: Object.fromEntries(
      [...q.weights].map(([k, { values: ints, channelScales, ...grid }]) => [k, { ...grid, blob: data.add(ints), ...(channelScales ? { channelScales: data.add(channelScales) } : {}) }]),
    ),
    biases: Object.fromEntries([...q.biases].map(([k, b]) => [k, { scale: b.scale, blob: data.add(b.values), ...(b.channelScales ? { channelScales: data.add(b.channelScales) } : {}) }])),
  };
  const perChannel = [...q.weights.values(), ...q.biases.values()].some((t) => t.channelScales);
  let json = JSON.stringify(header, encodeNumber);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const body = new Uint8Array(headerBytes.length + data.bytes().length);
  body.set(headerBytes, 0);
  body.set(data.bytes(), headerBytes.length);
  const out = new Uint8Array(PREFIX + body.length);
  out.set(new TextEncoder().encode(FQ_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, perChannel ? FQ_VERSION : FQ_VERSION_PER_TENSOR, true);
  view.setUint32(12, headerBytes.length, true);
  out.set(createHash('sha256').update(body).digest(), 16);
  out.set(body, PREFIX);
  return out;
}

// ---- Reading: nothing in the file is trusted ------------------------------------------------------------------
//
// The checksum catches accidental damage, not edits: anyone can recompute it. So the header is parsed with a
// nesting limit (no recursion can overflow the stack), validated against a schema of types and ranges (zod),
// cross-checked (names, blob bounds, blob lengths against shapes and dtypes), and the assembled QuantizedGraph is
// checked by checkQuantizedGraph (scales, zero points, bit widths, integer ranges) before anything uses it.

/** JSON nesting a valid header needs: header → graph → nodes → node → attrs → list (+ a {"$number"} box). */
const MAX_HEADER_DEPTH = 16;
const MAX_NAME = 4096;
const MAX_LIST = 1_000_000;

const BYTES: Readonly<Record<DType, number>> = { float32: 4, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1 };
const DTYPES = ['float32', 'int64', 'int32', 'int8', 'uint8', 'bool'] as const satisfies readonly DType[];

/** A number after the reviver: finite, or ±Infinity (Clip's open bounds); never NaN. */
const attrNumber = z.number().or(z.custom<number>((v) => v === Infinity || v === -Infinity, 'expected a number'));
const name = z.string().min(1).max(MAX_NAME);
const blobSchema = z.strictObject({ offset: z.int().min(0), length: z.int().min(0) });
const dimSchema = z.union([z.int().min(0).max(MAX_DIM), z.string().min(1).max(MAX_NAME)]);
const shapeSchema = z.array(dimSchema).max(MAX_RANK);
const gridFields = {
  scale: z.number().positive(),
  zeroPoint: z.int(),
  bits: z.int().min(GRID_BITS.min).max(GRID_BITS.max),
  qmin: z.int(),
  qmax: z.int(),
};
const headerSchema = z.strictObject({
  info: z.looseObject({
    flexqVersion: z.string().max(MAX_NAME),
    method: z.enum(['rtn', 'adaround', 'adaquant', 'flexround', 'imported']),
    wbits: z.int(),
    abits: z.int(),
    seed: z.int(),
    model: z.string().max(MAX_NAME),
    calibrationSamples: z.int().min(0),
  }),
  graph: z.strictObject({
    name: z.string().max(MAX_NAME),
    inputs: z.array(name).min(1).max(MAX_LIST),
    outputs: z.array(name).min(1).max(MAX_LIST),
    nodes: z
      .array(
        z.strictObject({
          name: z.string().max(MAX_NAME),
          op: name,
          inputs: z.array(z.string().max(MAX_NAME)).max(MAX_LIST),
          outputs: z.array(name).min(1).max(MAX_LIST),
          attrs: z.record(z.string().max(MAX_NAME), z.union([attrNumber, z.string().max(MAX_NAME), z.array(attrNumber).max(MAX_LIST), z.array(z.string().max(MAX_NAME)).max(MAX_LIST)])),
        }),
      )
      .max(MAX_LIST),
    values: z.array(z.strictObject({ name, dtype: z.enum(DTYPES), shape: shapeSchema, blob: blobSchema.optional() })).max(MAX_LIST),
  }),
  activations: z.record(name, z.strictObject(gridFields)),
  weights: z.record(name, z.strictObject({ ...gridFields, shape: z.array(z.int().min(0).max(MAX_DIM)).max(MAX_RANK), blob: blobSchema, channelScales: blobSchema.optional() })),
  biases: z.record(name, z.strictObject({ scale: z.number().positive(), blob: blobSchema, channelScales: blobSchema.optional() })),
});

/** Fails when the JSON text nests deeper than MAX_HEADER_DEPTH; a linear scan, so it cannot overflow the stack. */
function checkNesting(text: string, path: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_HEADER_DEPTH)
        fail('MODEL_INVALID', `${path}: the header nests deeper than ${MAX_HEADER_DEPTH} levels; no .fq header does: the file was edited or damaged, quantize again`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

function parseHeader(bytes: Uint8Array, path: string): FqHeader {
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('MODEL_INVALID', `${path}: the header is not UTF-8 text; the file was edited or damaged: quantize again`);
  }
  checkNesting(text, path);
  try {
    json = JSON.parse(text, decodeNumber);
  } catch (e) {
    return fail('MODEL_INVALID', `${path}: the header is not valid JSON (${(e as Error).message}); the file was edited or damaged: quantize again`);
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) {
    const clip = (text: string) => (text.length > 160 ? `${text.slice(0, 160)}…` : text);
    const issues = parsed.error.issues.slice(0, 3).map((i) => clip(`${i.path.length ? i.path.join('.') : '(header)'}: ${i.message}`));
    return fail('MODEL_INVALID', `${path}: the header does not match the .fq format: ${issues.join('; ')}${parsed.error.issues.length > 3 ? '; …' : ''}. The file was edited or written by something else: quantize again`);
  }
  // The parsed JSON itself, not zod's copy: it keeps the file's key order, so a file re-encodes to the same bytes.
  return json as FqHeader;
}

/** Cross-checks the header's names and blobs: every reference resolves, every blob lies in the data and fits its shape. */
function checkHeader(header: FqHeader, version: number, dataLength: number, path: string): void {
  const bad = (what: string): never => fail('MODEL_INVALID', `${path}: ${what}; the file was edited or damaged: quantize again`);
  const g = header.graph;
  const byName = new Map<string, FqValue>();
  for (const v of g.values) {
    if (byName.has(v.name)) bad(`value '${v.name}' is listed twice`);
    byName.set(v.name, v);
  }
  const blobFits = (blob: Blob, bytes: number, what: string): void => {
    if (blob.offset + blob.length > dataLength) bad(`${what}'s data [${blob.offset}, ${blob.offset + blob.length}) lies past the end of the data section (${dataLength} bytes)`);
    if (blob.length !== bytes) bad(`${what} has ${blob.length} bytes of data, expected ${bytes} for its shape and type`);
  };
  const staticSize = (v: FqValue, what: string): number => (isStatic(v.shape) ? sizeOf(v.shape) : bad(`${what} has symbolic shape ${formatShape(v.shape)} but holds data`));
  for (const v of g.values) if (v.blob) blobFits(v.blob, staticSize(v, `tensor '${v.name}'`) * BYTES[v.dtype], `tensor '${v.name}'`);
  const stored = (key: string, what: string): FqValue => {
    const v = byName.get(key) ?? bad(`${what} '${key}' names no value of the graph`);
    if (v.blob || v.dtype !== 'float32') bad(`${what} '${key}' must name a float32 tensor stored as integers, found ${v.dtype}${v.blob ? ' with its own data' : ''}`);
    return v;
  };
  for (const [key, w] of Object.entries(header.weights)) {
    const v = stored(key, 'weight');
    if (formatShape(v.shape) !== formatShape(w.shape)) bad(`weight '${key}' has shape ${formatShape(w.shape)} but its tensor is ${formatShape(v.shape)}`);
    blobFits(w.blob, sizeOf(w.shape), `weight '${key}'`);
    if (w.channelScales) blobFits(w.channelScales, (w.shape[0] ?? 0) * 4, `weight '${key}''s channel scales`);
  }
  const perChannel = [...Object.values(header.weights), ...Object.values(header.biases)].some((t) => t.channelScales);
  if (perChannel && version < 2) bad(`a version ${version} file holds per-channel scales, which version 2 introduced`);
  for (const [key, b] of Object.entries(header.biases)) {
    if (Object.hasOwn(header.weights, key)) bad(`'${key}' is both a weight and a bias`);
    const v = stored(key, 'bias');
    blobFits(b.blob, staticSize(v, `bias '${key}'`) * 4, `bias '${key}'`);
    if (b.channelScales) blobFits(b.channelScales, staticSize(v, `bias '${key}'`) * 4, `bias '${key}''s channel scales`);
  }
  for (const key of Object.keys(header.activations)) if (!byName.has(key)) bad(`activation '${key}' names no value of the graph`);
  for (const i of g.inputs) if (!byName.has(i) || byName.get(i)!.blob) bad(`graph input '${i}' is not a value without data`);
  for (const o of g.outputs) if (!byName.has(o)) bad(`graph output '${o}' names no value of the graph`);
  g.nodes.forEach((n, k) => {
    for (const x of [...n.inputs, ...n.outputs]) if (x !== '' && !byName.has(x)) bad(`node ${k} '${n.name}' (${n.op}) refers to '${x}', which names no value of the graph`);
  });
}

function readBlob(bytes: Uint8Array, dataStart: number, blob: Blob, dtype: DType): TensorData {
  // checkHeader made sure the blob lies inside the data and holds a whole number of elements.
  const out = allocate(dtype, blob.length / BYTES[dtype]);
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
  const header = parseHeader(bytes.subarray(PREFIX, PREFIX + headerLength), path);
  const dataStart = PREFIX + headerLength;
  checkHeader(header, version, bytes.length - dataStart, path);

  const scales = (blob: Blob | undefined) => (blob ? { channelScales: readBlob(bytes, dataStart, blob, 'float32') as Float32Array } : {});
  const weights = new Map<string, QuantizedWeight>(
    Object.entries(header.weights).map(([k, { blob, channelScales, ...grid }]) => [k, { ...grid, values: readBlob(bytes, dataStart, blob, 'int8') as Int8Array, ...scales(channelScales) }]),
  );
  const biases = new Map<string, QuantizedBias>(
    Object.entries(header.biases).map(([k, b]) => [k, { scale: b.scale, values: readBlob(bytes, dataStart, b.blob, 'int32') as Int32Array, ...scales(b.channelScales) }]),
  );
  const constant = (v: FqValue): Value | undefined => {
    const w = weights.get(v.name);
    const b = biases.get(v.name);
    const data = w ? dequantizeWeight(w) : b ? dequantizeBias(b) : v.blob ? readBlob(bytes, dataStart, v.blob, v.dtype) : undefined;
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
  const q: QuantizedGraph = { graph, activations: new Map(Object.entries(header.activations)), weights, biases, info: header.info };
  checkQuantizedGraph(q, path);
  return q;
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
