// Mutations of TFLite flatbuffers, .fq files, .npy files and images.
import { createHash } from 'node:crypto';
import { copyBytes, flipBits, NASTY_INTS, overwriteInt32, truncate, type Rng } from './random.js';

type Mutant = { bytes: Uint8Array; label: string };

export function mutateTflite(bytes: Uint8Array, rng: Rng): Mutant {
  const r = rng.float();
  if (r < 0.35) return flipBits(bytes, rng);
  if (r < 0.55) return truncate(bytes, rng);
  const first = overwriteInt32(bytes, rng);
  return rng.chance(0.3) ? { bytes: overwriteInt32(first.bytes, rng).bytes, label: `${first.label} (+1 more)` } : first;
}

// ---- .fq ---------------------------------------------------------------------------------------------------

const FQ_PREFIX = 48;

/** An .fq file with a new header text and data section, under a correctly recomputed checksum. */
export function reassembleFq(original: Uint8Array, headerText: string, data: Uint8Array): Uint8Array {
  const padded = headerText + ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const header = new TextEncoder().encode(padded);
  const body = new Uint8Array(header.length + data.length);
  body.set(header, 0);
  body.set(data, header.length);
  const out = new Uint8Array(FQ_PREFIX + body.length);
  out.set(original.subarray(0, 12), 0);
  new DataView(out.buffer).setUint32(12, header.length, true);
  out.set(createHash('sha256').update(body).digest(), 16);
  out.set(body, FQ_PREFIX);
  return out;
}

export function splitFq(bytes: Uint8Array): { header: string; data: Uint8Array } {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  return { header: new TextDecoder().decode(bytes.subarray(FQ_PREFIX, FQ_PREFIX + length)), data: bytes.subarray(FQ_PREFIX + length) };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every container path in a JSON tree, as key lists. */
function paths(root: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(root)) root.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (root && typeof root === 'object') for (const [k, v] of Object.entries(root)) paths(v, [...prefix, k], out);
  return out;
}

const DEEP = '['.repeat(100_000) + ']'.repeat(100_000);
const NASTY_JSON: readonly Json[] = [
  null, true, -1, 0, 1, 0.5, 1e300, -1e300, 2 ** 53, -(2 ** 31), 100000, 3, 16, 32, '', 'x', 'Conv', [], {}, [1, 2, 3],
  { $number: 'NaN' }, { $number: 'Infinity' }, { $number: '-Infinity' }, { $number: 'nope' }, { offset: 0, length: -8 }, { offset: 2 ** 40, length: 8 },
];

/** Targeted edits of the fields the reader must distrust, as (path, value) on the parsed header. */
function targetedEdit(h: Record<string, Json>, rng: Rng): string {
  const acts = h.activations as Record<string, Record<string, Json>>;
  const weights = h.weights as Record<string, Record<string, Json>>;
  const biases = h.biases as Record<string, Record<string, Json>>;
  const graph = h.graph as Record<string, Json[]>;
  const act = acts[rng.pick(Object.keys(acts))];
  const w = weights[rng.pick(Object.keys(weights))];
  const node = rng.pick(graph.nodes) as Record<string, Json>;
  const choices: (() => string)[] = [
    () => ((act.scale = rng.pick<Json>([{ $number: 'NaN' }, 0, -0.5, { $number: 'Infinity' }, 1e-300])), `activation scale := ${JSON.stringify(act.scale)}`),
    () => ((act.zeroPoint = rng.pick([100000, -129, 128, 0.5])), `activation zeroPoint := ${act.zeroPoint}`),
    () => ((act.bits = rng.pick([0, 1, 9, 16, 32, -8])), `activation bits := ${act.bits}`),
    () => (([act.qmin, act.qmax] = rng.pick([[127, -128], [-1000, 1000], [0, 0]])), `activation range := [${act.qmin}, ${act.qmax}]`),
    () => ((w.scale = rng.pick<Json>([{ $number: 'NaN' }, 0, -1])), `weight scale := ${JSON.stringify(w.scale)}`),
    () => ((w.blob = { offset: (w.blob as Record<string, number>).offset, length: 3 }), 'weight blob length := 3'),
    () => ((w.shape = [rng.pick([1, 3, 2 ** 20, -1])]), `weight shape := ${JSON.stringify(w.shape)}`),
    () => ((w.bits = rng.pick([1, 9, 33])), `weight bits := ${w.bits}`),
    () => ((w.qmin = -100000), 'weight qmin := -100000'),
    () => {
      const b = biases[rng.pick(Object.keys(biases))];
      if (!b) return 'no biases';
      b.blob = { offset: rng.pick([0, 2 ** 31, -8]), length: rng.pick([-8, 0, 4, 2 ** 30]) };
      return `bias blob := ${JSON.stringify(b.blob)}`;
    },
    () => ((node.inputs = ['nowhere']), `node '${node.name}' inputs := ['nowhere']`),
    () => ((node.outputs = []), `node '${node.name}' outputs := []`),
    () => ((node.op = rng.pick(['Bogus', 'Conv', 'Cast', 'Reshape'])), `node '${node.name}' op := ${node.op}`),
    () => ((node.attrs = rng.pick<Json>([{ strides: [0, 0] }, { kernel: [1e9, 1e9] }, { group: 0 }, { to: 'float64' }, { axis: 99 }, null])), `node '${node.name}' attrs := ${JSON.stringify(node.attrs)}`),
    () => ((graph.outputs = []), 'graph outputs := []'),
    () => ((graph.inputs = ['nowhere']), "graph inputs := ['nowhere']"),
    () => {
      const v = rng.pick(graph.values) as Record<string, Json>;
      v.shape = rng.pick<Json>([[2 ** 30, 2 ** 30], [-1], ['N', 0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]);
      return `value '${v.name}' shape := ${JSON.stringify(v.shape)}`;
    },
    () => ((graph.values = [...graph.values, graph.values[0]]), 'a value listed twice'),
  ];
  return rng.pick(choices)();
}

export function mutateFq(bytes: Uint8Array, rng: Rng): Mutant {
  const { header, data } = splitFq(bytes);
  const r = rng.float();
  if (r < 0.08) return flipBits(bytes, rng);
  if (r < 0.14) return truncate(bytes, rng);
  if (r < 0.22) {
    const cut = rng.int(data.length);
    return { bytes: reassembleFq(bytes, header, data.subarray(0, cut)), label: `data section cut to ${cut} of ${data.length} bytes (checksum recomputed)` };
  }
  if (r < 0.32) {
    const text = Buffer.from(header);
    const at = rng.int(text.length);
    text[at] = rng.pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x2d, 0x6e, 0xff]);
    return { bytes: reassembleFq(bytes, text.toString('latin1'), data), label: `header byte ${at} := ${text[at]} (checksum recomputed)` };
  }
  if (r < 0.35) {
    const at = 1 + rng.int(header.length - 2);
    return { bytes: reassembleFq(bytes, header.slice(0, at) + DEEP + ',' + header.slice(at), data), label: `deep nesting inserted at ${at}` };
  }
  const h = JSON.parse(header) as Record<string, Json>;
  let label: string;
  if (r < 0.7) label = targetedEdit(h, rng);
  else {
    const all = paths(h).filter((p) => p.length > 0);
    const path = rng.pick(all);
    const parent = path.slice(0, -1).reduce<Json>((node, k) => (node as Record<string | number, Json>)[k], h) as Record<string | number, Json>;
    const key = path[path.length - 1];
    if (rng.chance(0.15) && !Array.isArray(parent)) {
      delete parent[key];
      label = `delete ${path.join('.')}`;
    } else {
      parent[key] = rng.pick(NASTY_JSON);
      label = `${path.join('.')} := ${JSON.stringify(parent[key])}`;
    }
  }
  return { bytes: reassembleFq(bytes, JSON.stringify(h), data), label: `${label} (checksum recomputed)` };
}

// ---- .npy ----------------------------------------------------------------------------------------------------

export function mutateNpy(bytes: Uint8Array, rng: Rng): Mutant {
  const r = rng.float();
  if (r < 0.15) return flipBits(bytes, rng);
  if (r < 0.3) return truncate(bytes, rng);
  if (r < 0.4) {
    const out = copyBytes(bytes);
    const v = rng.pick([0, 1, 9, 2 ** 16 - 1, ...NASTY_INTS]);
    if (rng.chance(0.5)) out[6] = rng.pick([0, 1, 2, 3, 4, 255]);
    else new DataView(out.buffer).setUint16(8, v & 0xffff, true);
    return { bytes: out, label: `version ${out[6]}, header length ${new DataView(out.buffer).getUint16(8, true)}` };
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  const text = Buffer.from(bytes.subarray(10, 10 + headerLength)).toString('latin1');
  const data = bytes.subarray(10 + headerLength);
  const dims = () => Array.from({ length: rng.int(6) }, () => rng.pick(['4', '3', '8', '0', '-1', '1e400', '2147483648', '1099511627776', 'abc', '', '4.5']));
  const edits: [RegExp, () => string][] = [
    [/'descr': '[^']*'/, () => `'descr': '${rng.pick(['<f2', '>f4', '|O', '<c8', '<f8', '<i8', '|b1', '<U3', "'", ''])}'`],
    [/'fortran_order': \w+/, () => `'fortran_order': ${rng.pick(['True', 'Maybe', ''])}`],
    [/'shape': \([^)]*\)/, () => `'shape': (${dims().join(', ')},)`],
    [/\{/, () => rng.pick(['', '{{', "{'descr': '<f4', "])],
  ];
  const [pattern, replacement] = rng.pick(edits);
  const edited = text.replace(pattern, replacement());
  const header = Buffer.from(edited, 'latin1');
  const out = new Uint8Array(10 + header.length + data.length);
  out.set(bytes.subarray(0, 10));
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(header, 10);
  out.set(data, 10 + header.length);
  return { bytes: out, label: `header := ${JSON.stringify(edited.trim())}` };
}

// ---- images ------------------------------------------------------------------------------------------------

export function mutateImage(bytes: Uint8Array, rng: Rng): Mutant {
  const r = rng.float();
  if (r < 0.5) return truncate(bytes, rng);
  if (r < 0.8) return flipBits(bytes, rng);
  const out = copyBytes(bytes);
  // PNG IHDR width/height at 16..23; for JPEG this hits the first segments (APP0/DQT), also worth a try.
  const at = 16 + rng.int(8);
  out[at] = rng.pick([0x00, 0xff, 0x7f, 0x80]);
  return { bytes: out, label: `byte ${at} := ${out[at]}` };
}
