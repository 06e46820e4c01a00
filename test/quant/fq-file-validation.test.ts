// An .fq file is not trusted: an edited file under a recomputed checksum ends in a clear error (finding 4).
import { describe, expect, it } from 'vitest';
import { FlexqError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { checkQuantizedGraph, quantizedGraphProblems } from '../../src/quant/check-quantized-graph.js';
import { decodeFq, encodeFq } from '../../src/quant/fq-file.js';
import type { ActivationQuant, QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { quantizeRtn } from '../../src/quant/rtn.js';
import { activationQuant } from '../../src/quant/schemes.js';
import { tinyOnnx } from '../fuzz/bases.js';
import { reassembleFq, splitFq } from '../fuzz/mutate-files.js';

/** The tiny model quantized without calibration: RTN weights, a [−1, 1] grid on every activation. */
function quantizedTiny(): QuantizedGraph {
  const graph = optimizeGraph(importOnnx(tinyOnnx(), 'tiny.onnx'));
  const activations = new Map<string, ActivationQuant>([...graph.inputs, ...graph.nodes.flatMap((n) => n.outputs)].map((v) => [v, activationQuant(-1, 1, 8)]));
  return quantizeRtn(graph, activations, { wbits: 8, edgeBits: 8 }, { flexqVersion: '0.1.0', method: 'rtn', wbits: 8, abits: 8, seed: 0, model: 'tiny.onnx', calibrationSamples: 0 });
}

const q = quantizedTiny();
const bytes = encodeFq(q);
/** The parsed header, edited freely: the point is to write what the schema forbids. */
type Header = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The file with its header edited and its checksum recomputed, as an editor that knows the format would. */
function withHeader(edit: (h: Header) => void): Uint8Array {
  const { header, data } = splitFq(bytes);
  const h = JSON.parse(header) as Header;
  edit(h);
  return reassembleFq(bytes, JSON.stringify(h), data);
}

function decodeError(file: Uint8Array): FlexqError {
  try {
    decodeFq(file, 'edited.fq');
  } catch (e) {
    if (e instanceof FlexqError) return e;
    throw new Error(`expected a FlexqError, got ${(e as Error).stack}`);
  }
  throw new Error('expected the file to be rejected');
}

function expectRejected(file: Uint8Array, ...fragments: (string | RegExp)[]): string {
  const e = decodeError(file);
  expect(e.code, e.message).toBe('MODEL_INVALID');
  expect(e.message).toMatch(/^edited\.fq: /);
  for (const f of fragments) expect(e.message).toMatch(f);
  return e.message;
}

const firstKey = (o: Record<string, unknown>) => Object.keys(o)[0];

describe('decodeFq validates an edited header (checksum recomputed)', () => {
  it('a sound file decodes and re-encodes to the same bytes', () => {
    const back = decodeFq(bytes, 'tiny.fq');
    expect(encodeFq(back)).toEqual(bytes);
    expect(quantizedGraphProblems(back)).toEqual([]);
  });

  it('a JSON syntax error, invalid UTF-8 or a null where an object belongs', () => {
    const { header, data } = splitFq(bytes);
    expectRejected(reassembleFq(bytes, header.replace('{"info"', '{"info":'), data), /header is not valid JSON/);
    expectRejected(reassembleFq(bytes, '\udc00' + header.slice(1), data), /not valid JSON|not UTF-8/);
    expectRejected(withHeader((h) => (h.graph = null)), /header does not match the .fq format: graph: /);
    expectRejected(withHeader((h) => (h.graph.nodes[0] = null)), /graph\.nodes\.0/);
  });

  it('deep nesting cannot overflow the stack', () => {
    const { header, data } = splitFq(bytes);
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expectRejected(reassembleFq(bytes, header.replace('"attrs":{', `"attrs":{"x":${deep},`), data), /nests deeper than 16 levels/);
  });

  it('blobs past the end, of negative length, or shortened to 3 values', () => {
    expectRejected(withHeader((h) => (h.weights[firstKey(h.weights)].blob.offset = 2 ** 40)), /past the end of the data section/);
    expectRejected(withHeader((h) => (h.biases[firstKey(h.biases)].blob.length = -8)), /biases\..*blob\.length/);
    expectRejected(withHeader((h) => (h.weights[firstKey(h.weights)].blob.length = 3)), `weight '${[...q.weights.keys()][0]}' has 3 bytes of data, expected 108`);
    const { header, data } = splitFq(bytes);
    expectRejected(reassembleFq(bytes, header, data.subarray(0, data.length - 16)), /past the end of the data section/);
  });

  it('activation scales NaN, 0 or negative; zero points of 100000; bit widths outside 2..8', () => {
    const a = (h: Header) => h.activations[firstKey(h.activations)];
    expectRejected(withHeader((h) => (a(h).scale = { $number: 'NaN' })), /activations\..*\.scale/);
    expectRejected(withHeader((h) => (a(h).scale = 0)), /activations\..*\.scale: Too small/);
    expectRejected(withHeader((h) => (a(h).scale = -0.25)), /scale/);
    expectRejected(withHeader((h) => (a(h).zeroPoint = 100000)), /zero point 100000, expected an integer in \[-128, 127\]/);
    expectRejected(withHeader((h) => (a(h).bits = 16)), /bits/);
    expectRejected(withHeader((h) => ([a(h).qmin, a(h).qmax] = [-1000, 1000])), /integer range \[-1000, 1000\]/);
    expectRejected(withHeader((h) => (h.weights[firstKey(h.weights)].scale = -1)), /weights\..*\.scale/);
  });

  it('names that resolve nowhere, and unknown ops', () => {
    expectRejected(withHeader((h) => (h.graph.nodes[0].inputs = ['nowhere'])), /refers to 'nowhere', which names no value/);
    expectRejected(withHeader((h) => (h.graph.inputs = ['nowhere'])), /graph input 'nowhere'/);
    expectRejected(withHeader((h) => (h.activations.nowhere = h.activations[firstKey(h.activations)])), /activation 'nowhere' names no value/);
    expectRejected(withHeader((h) => (h.graph.outputs = [])), /graph\.outputs/);
    const e = decodeError(withHeader((h) => (h.graph.nodes[0].op = 'Bogus')));
    expect(e.code).toBe('UNSUPPORTED_OP');
  });

  it('node attributes are checked by the op contracts (zero strides)', () => {
    const conv = (h: Header) => h.graph.nodes.find((n: { op: string }) => n.op === 'Conv');
    const e = decodeError(withHeader((h) => (conv(h).attrs.strides = [0, 0])));
    expect(e.code).toBe('SHAPE');
    expect(e.message).toMatch(/edited\.fq: node '.*' \(Conv\): strides \[0,0\] holds 0/);
  });
});

describe('checkQuantizedGraph, for exporters', () => {
  it('lists every unsound grid, range and length', () => {
    const [wName, w] = [...q.weights][0];
    const [aName, a] = [...q.activations][0];
    const bad: QuantizedGraph = {
      ...q,
      activations: new Map([[aName, { ...a, scale: NaN, zeroPoint: 100000 }]]),
      weights: new Map([[wName, { ...w, values: w.values.subarray(0, 3) }]]),
    };
    const problems = quantizedGraphProblems(bad);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(`activation '${aName}': zero point 100000`),
        expect.stringMatching(`activation '${aName}': scale NaN`),
        expect.stringMatching(`weight '${wName}': 3 integers of shape`),
      ]),
    );
    expect(() => checkQuantizedGraph(bad, 'export')).toThrow(/^export: the quantized graph is not sound/);
    expect(() => checkQuantizedGraph(q, 'export')).not.toThrow();
  });
});
