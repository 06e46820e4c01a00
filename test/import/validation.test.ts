// Malformed models end in a FlexqError that names the file, node and tensor: never NaN shapes, a huge allocation,
// an out-of-bounds access, or a hang (findings 1–3 of the bad-input probe).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { FlexqError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { MAX_TENSOR_ELEMENTS } from '../../src/ir/limits.js';
import { formatShape } from '../../src/ir/shape.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { loadModel } from '../../src/load-model.js';
import { summarizeModel } from '../../src/model-summary.js';
import { tinyOnnx } from '../fuzz/bases.js';
import { hasShared, model } from '../helpers/shared.js';

const { onnx } = pkg;
type Model = pkg.onnx.ModelProto;

const dir = mkdtempSync(join(tmpdir(), 'flexq-validation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The tiny Conv → Relu → MaxPool → Flatten → Gemm model, edited through its protobuf structure. */
function edited(edit: (m: Model) => void, base: Uint8Array = tinyOnnx()): Uint8Array {
  const m = onnx.ModelProto.decode(base);
  edit(m);
  return onnx.ModelProto.encode(m).finish();
}

const nodeNamed = (m: Model, name: string) => m.graph!.node!.find((n) => n.name === name)!;

function setInts(m: Model, node: string, name: string, ints: number[]): void {
  const n = nodeNamed(m, node);
  n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== name), { name, type: 7, ints }];
}

/** Imports and runs the passes and summary (what `flexq inspect` does); returns the FlexqError it must end in. */
function inspectError(bytes: Uint8Array, file = 'bad.onnx'): FlexqError {
  const start = performance.now();
  try {
    const path = join(dir, file);
    writeFileSync(path, bytes);
    const loaded = loadModel(path);
    summarizeModel(loaded.graph);
  } catch (e) {
    expect(performance.now() - start, 'a bad model must fail fast').toBeLessThan(5000);
    if (e instanceof FlexqError) return e;
    throw new Error(`expected a FlexqError, got ${(e as Error).stack}`);
  }
  throw new Error('expected the model to be rejected');
}

function expectError(bytes: Uint8Array, code: string, ...fragments: (string | RegExp)[]): FlexqError {
  const e = inspectError(bytes);
  expect(e.code, e.message).toBe(code);
  expect(e.message).toContain(join(dir, 'bad.onnx'));
  for (const f of fragments) expect(e.message).toMatch(f);
  return e;
}

describe('finding 1: windows, groups and sizes are validated at import, before any allocation', () => {
  it('the tiny model itself imports and verifies', () => {
    const g = importOnnx(tinyOnnx(), 'tiny.onnx');
    expect(verifyGraph(g)).toEqual([]);
    expect(g.values.get('y')!.shape).toEqual([1, 5]);
  });

  it('zero strides: MODEL_INVALID naming the node, the attribute and the ONNX rule (not [N,8,NaN,NaN])', () => {
    const e = expectError(edited((m) => setInts(m, 'conv', 'strides', [0, 1])), 'MODEL_INVALID', "node 'conv' (Conv)", /strides \[0,1\] holds 0/, /≥ 1/);
    expect(e.message).not.toContain('NaN');
  });

  it('zero dilations, negative pads, a zero kernel: MODEL_INVALID', () => {
    expectError(edited((m) => setInts(m, 'conv', 'dilations', [1, 0])), 'MODEL_INVALID', /dilations \[1,0\] holds 0/);
    expectError(edited((m) => setInts(m, 'conv', 'pads', [1, -3, 1, 1])), 'MODEL_INVALID', /pads \[1,-3,1,1\] holds -3/);
    expectError(edited((m) => setInts(m, 'pool', 'kernel_shape', [0, 2])), 'MODEL_INVALID', "node 'pool' (MaxPool)", /kernel \[0,2\]/);
    expectError(edited((m) => setInts(m, 'pool', 'strides', [2])), 'MODEL_INVALID', /needs 2 strides/);
  });

  it('a kernel larger than the padded input: SHAPE, with the output size it would have', () => {
    const e = expectError(edited((m) => setInts(m, 'pool', 'kernel_shape', [64, 64])), 'SHAPE', "node 'pool' (MaxPool)", /does not fit input \[1,4,8,8\]/);
    expect(e.message).toMatch(/-27x-27/);
  });

  it('huge pads: MODEL_INVALID above the dim limit, SHAPE when the output would pass the element limit', () => {
    expectError(edited((m) => setInts(m, 'conv', 'pads', [2 ** 31 - 1, 1, 1, 1])), 'MODEL_INVALID', /pads .* holds 2147483647/);
    expectError(edited((m) => setInts(m, 'conv', 'pads', [100000, 100000, 100000, 100000])), 'SHAPE', "node 'conv' (Conv)", /output 'c'/, /above flexq's limit of 268435456/);
  });

  it('a group that does not divide the channels: SHAPE naming both', () => {
    expectError(
      edited((m) => nodeNamed(m, 'conv').attribute!.push({ name: 'group', type: 2, i: 2 })),
      'SHAPE',
      "node 'conv' (Conv)",
      /4 output channels|3 channels/,
    );
  });

  it('a huge input dim is rejected before anything is allocated (not "Invalid typed array length")', () => {
    const e = expectError(
      edited((m) => (m.graph!.input![0].type!.tensorType!.shape!.dim![2] = { dimValue: 400000 * 800000 })),
      'MODEL_INVALID',
      "graph input 'x'",
      /dim 2 .* above flexq's limit/,
      /--input-shape/,
    );
    expect(e.message).not.toMatch(/typed array/i);
    expectError(edited((m) => (m.graph!.input![0].type!.tensorType!.shape!.dim![2] = { dimValue: 0 })), 'MODEL_INVALID', /dim 2 of \[1,3,0,8\] is 0, expected ≥ 1/);
    expectError(edited((m) => (m.graph!.input![0].type!.tensorType!.shape!.dim![3] = { dimValue: 2 ** 27 })), 'MODEL_INVALID', /\[1,3,8,134217728\] has 3221225472 elements, above flexq's limit/);
  });

  it('initializer dims huge, negative or disagreeing with the data: MODEL_INVALID naming the tensor', () => {
    expectError(edited((m) => (m.graph!.initializer![0].dims = [2 ** 40])), 'MODEL_INVALID', "tensor 'w'", /above flexq's limit/);
    expectError(edited((m) => (m.graph!.initializer![0].dims = [4, -3, 3, 3])), 'MODEL_INVALID', "tensor 'w'", /is -3, expected ≥ 0/);
    expectError(edited((m) => (m.graph!.initializer![0].dims = [4, 3, 3, 4])), 'MODEL_INVALID', "tensor 'w'", /432 bytes of raw_data, expected 576/);
  });

  it('reshape and transpose targets that do not fit: SHAPE', () => {
    expectError(
      edited((m) => {
        nodeNamed(m, 'flat').opType = 'Reshape';
        nodeNamed(m, 'flat').attribute = [];
        nodeNamed(m, 'flat').input!.push('shape');
        m.graph!.initializer!.push({ name: 'shape', dataType: 7, dims: [2], int64Data: [1, 65] });
      }),
      'SHAPE',
      "node 'flat' (Reshape)",
      /cannot reshape \[1,4,4,4\] \(64 elements\) to \[1,65\]/,
    );
  });
});

describe('finding 2: NaN weights and graphs without outputs or inputs', () => {
  it('a NaN weight names the tensor and the first bad index', () => {
    const bytes = edited((m) => {
      const w = m.graph!.initializer![0];
      const raw = new Uint8Array(w.rawData!);
      new DataView(raw.buffer).setFloat32(4 * 17, NaN, true);
      w.rawData = raw;
    });
    expectError(bytes, 'MODEL_INVALID', "tensor 'w' holds NaN at flat index 17 (of 108)", /must be finite/);
  });

  it('an infinite weight too, in float_data form', () => {
    const bytes = edited((m) => {
      const w = m.graph!.initializer![2];
      w.floatData = Array.from(new Float32Array(new Uint8Array(w.rawData!).buffer));
      w.floatData[5] = -Infinity;
      w.rawData = new Uint8Array(0);
    });
    expectError(bytes, 'MODEL_INVALID', "tensor 'fc' holds -Infinity at flat index 5");
  });

  it('a model with no outputs is an error, not "0 weighted layers"', () => {
    expectError(edited((m) => (m.graph!.output = [])), 'MODEL_INVALID', /declares no outputs/, /export the model with its outputs/);
  });

  it('a model with no data input is an error', () => {
    expectError(edited((m) => (m.graph!.input = [])), 'MODEL_INVALID', /no data inputs/);
  });

  it('a node that writes an existing value, or has no outputs, is an error', () => {
    expectError(edited((m) => (nodeNamed(m, 'relu').output = ['c'])), 'MODEL_INVALID', "node 'relu' (Relu) writes 'c'");
    expectError(edited((m) => (nodeNamed(m, 'relu').output = [])), 'MODEL_INVALID', "node 'relu' (Relu) has no outputs");
  });
});

/** A model with `count` Conv nodes nobody reads, all reading the first conv's input and weight. */
function withDeadNodes(bytes: Uint8Array, count: number): Uint8Array {
  return edited((m) => {
    const first = m.graph!.node!.find((n) => n.opType === 'Conv')!;
    for (let i = 0; i < count; i++)
      m.graph!.node!.push(onnx.NodeProto.create({ name: `dead_${i}`, opType: 'Conv', input: first.input!.slice(0, 2), output: [`dead_out_${i}`], attribute: first.attribute }));
  }, bytes);
}

function timeInspect(bytes: Uint8Array, file: string): { seconds: number; printed: string } {
  const path = join(dir, file);
  writeFileSync(path, bytes);
  const start = performance.now();
  const loaded = loadModel(path);
  const s = summarizeModel(loaded.graph);
  const printed = [...s.inputs.map((i) => `input ${i.name} ${formatShape(i.shape)}`), `ops ${JSON.stringify(s.ops)}`, ...s.layers.map((l) => `${l.name} ${l.op} ${formatShape(l.output)}`)].join('\n');
  summarizeModel(loaded.imported);
  return { seconds: (performance.now() - start) / 1000, printed };
}

describe('finding 3: import and passes are linear in graph size', () => {
  it('20,000 dead Conv nodes on the tiny model: imported and inspected in seconds, dead nodes gone after the passes', () => {
    const { seconds, printed } = timeInspect(withDeadNodes(tinyOnnx(), 20_000), 'tiny-dead.onnx');
    expect(seconds).toBeLessThan(20);
    expect(printed).not.toContain('dead_');
    expect(printed).toContain('Gemm');
  });

  it.skipIf(!hasShared)('ResNet-8 + 20,000 dead Conv nodes: loadModel and the summary finish well under 10 s (asserted < 20 s)', () => {
    const { seconds, printed } = timeInspect(withDeadNodes(new Uint8Array(readFileSync(model('resnet8-cifar10/float.onnx'))), 20_000), 'r8-dead.onnx');
    expect(seconds).toBeLessThan(20);
    expect(printed).not.toContain('dead_');
    expect(printed).toMatch(/input T0 \[N,3,32,32\]/);
  });
});

it('the element limit is the documented 2^28', () => {
  expect(MAX_TENSOR_ELEMENTS).toBe(2 ** 28);
});
