// The ONNX QDQ export run by onnxruntime-node and onnxruntime-web (wasm, in Node; ResNet-8 in headless Chromium too)
// against flexq's integer runtime in its onnx mode, byte for byte, on every shared labelled set (test/export/qdq-cases.ts:
// 1000 inputs, every activation on the held-out ones). Each executor runs the flavour it picks
// (targets/web/ort-executor.ts): ort-web the uint8-activation 'ort-web' one, ort-node the generic int8 one for these
// 8-bit weights; onnxruntime-web runs the generic one too (test/export/onnx-qdq-flavours.test.ts: 7-bit weights).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../calibration/index.js';
import { createIntegerRuntime } from '../../runtime/executor.js';
import { quantizedExecutor } from '../../src/api/executors.js';
import { buildQdqModel, exportOnnxQdq } from '../../src/export/onnx-qdq.js';
import { FlexqError } from '../../src/errors.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { createOrtExecutor, ORT_SESSION_OPTIONS } from '../../targets/web/ort-executor.js';
import { createChromiumOrtExecutor } from '../helpers/chromium.js';
import { data } from '../helpers/shared.js';
import { lacksTools } from '../helpers/tools.js';
import { compareWithRuntime, DSCNN, MNIST8, MOBILENETV2, quantizeRtn, RESNET8, type Compared, type QdqCase } from './qdq-cases.js';

interface RealCase extends QdqCase {
  /** Top-1 floor of the int8 model on the held-out split (float top-1 minus a few points). */
  readonly top1Floor: number;
  /**
   * How many inputs onnxruntime-web also runs the generic flavour on: its int8 kernels are several times slower than
   * the ort-web flavour's (MobileNetV2: 140 ms a photo, README's web table).
   */
  readonly genericInWeb: number;
  /** Whether headless Chromium runs the ort-web flavour on every input too (at the outputs); the title says so. */
  readonly chromium: boolean;
}

const REAL: RealCase[] = [
  { ...RESNET8, top1Floor: 0.82, genericInWeb: 1000, chromium: !lacksTools('chromium') },
  { ...DSCNN, top1Floor: 0.87, genericInWeb: 1000, chromium: false },
  { ...MNIST8, top1Floor: 0.96, genericInWeb: 1000, chromium: false },
  { ...MOBILENETV2, top1Floor: 0.6, genericInWeb: 10, chromium: false },
];

/** The executors compared with the runtime on a case's int8 model. */
async function openCompared(c: RealCase, q: QuantizedGraph): Promise<Compared[]> {
  const compared: Compared[] = [
    { label: 'ort-node', executor: await quantizedExecutor(q, 'ort-node', { mode: 'onnx' }) },
    { label: 'ort-web', executor: await quantizedExecutor(q, 'ort-web', { mode: 'onnx' }) },
    { label: 'ort-web generic', executor: await createOrtExecutor(q, 'web', 'generic'), inputs: c.genericInWeb },
  ];
  if (c.chromium) compared.push({ label: 'Chromium ort-web', executor: await createChromiumOrtExecutor(q, 'ort-web'), outputsOnly: true });
  return compared;
}

for (const c of REAL) {
  describe(`ONNX QDQ ${c.name}: runtime (onnx mode), ort-node and ort-web${c.chromium ? ' (also in headless Chromium)' : ''} agree on ${c.inputs} inputs`, () => {
    let q: QuantizedGraph;
    let compared: Compared[];

    beforeAll(async () => {
      q = await quantizeRtn(c, 'int8');
      compared = await openCompared(c, q);
    });
    afterAll(async () => {
      for (const e of compared ?? []) await e.executor.dispose();
    });

    it(`zero mismatched bytes (every activation of ${c.layerInputs} inputs, the outputs of the rest), and top-1 above the floor`, async () => {
      const r = await compareWithRuntime(c, q, compared);
      expect(r.inputs).toBe(c.inputs);
      expect(r.differ).toEqual([]);
      expect(r.correct / r.heldOut).toBeGreaterThanOrEqual(c.top1Floor);
    }, 400_000);
  });
}

describe('ONNX QDQ file (ResNet-8)', () => {
  let q: QuantizedGraph;
  let dir: string;
  beforeAll(async () => {
    q = await quantizeRtn(RESNET8, 'int8');
    dir = mkdtempSync(join(tmpdir(), 'flexq-qdq-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('onnxruntime fuses it into integer kernels: no float Conv or Gemm is left, the adds stay float', async () => {
    const [file] = await exportOnnxQdq(q, join(dir, 'model.qdq.onnx'), { io: 'float' });
    const optimized = join(dir, 'optimized.onnx');
    const session = await ortNode.InferenceSession.create(file, { ...ORT_SESSION_OPTIONS, graphOptimizationLevel: 'extended', optimizedModelFilePath: optimized });
    await session.release();
    const ops = pkg.onnx.ModelProto.decode(readFileSync(optimized)).graph!.node!.map((n) => n.opType);
    const count = (op: string) => ops.filter((o) => o === op).length;
    expect(count('QLinearConv')).toBe(q.graph.nodes.filter((n) => n.op === 'Conv').length);
    expect(count('QGemm')).toBe(1);
    expect(count('QLinearGlobalAveragePool')).toBe(1);
    expect(count('QLinearSoftmax')).toBe(1);
    expect(count('Conv') + count('Gemm')).toBe(0);
    // The residual adds stay float32 between DQ and Q on purpose (src/export/onnx-qdq.ts): Sum, never QLinearAdd.
    expect([count('Sum'), count('QLinearAdd')]).toEqual([3, 0]);
  });

  it('--io int8: int8 input and output tensors, the same bytes as the runtime', async () => {
    const session = await ortNode.InferenceSession.create(buildQdqModel(q, { io: 'int8' }), ORT_SESSION_OPTIONS);
    const ds = await openDataset({ path: data('cifar10/test-200'), preprocess: 'none', limit: 40, sampleShape: [3, 32, 32] });
    const rt = createIntegerRuntime(q, 'onnx');
    for await (const batch of ds.batches(40)) {
      const x = rt.quantizeInput(batch.data);
      const got = await session.run({ [q.graph.inputs[0]]: new ortNode.Tensor('int8', x, [batch.count, 3, 32, 32]) });
      const y = got[q.graph.outputs[0]];
      expect(y.type).toBe('int8');
      expect(y.data).toEqual(rt.run({ shape: [batch.count, 3, 32, 32], data: x }).get(q.graph.outputs[0])!.data);
    }
    await session.release();
  });

  it('refuses a weights-only (--abits 32) graph, naming what to do', () => {
    const floatActivations = { ...q, activations: new Map() };
    expect(() => buildQdqModel(floatActivations, { io: 'float' })).toThrow(FlexqError);
    expect(() => buildQdqModel(floatActivations, { io: 'float' })).toThrow(/--abits 8/);
  });
});
