// The ONNX QDQ flavours (src/export/onnx-qdq.ts) on 7-bit weights: 'ort-node' (uint8 activations, weights in
// [−64, 63]) in onnxruntime-node and -web, and 'ort-web' (uint8 activations) in onnxruntime-node, where 7-bit weights
// keep its u8s8 kernels from saturating; each bit-exact with the integer runtime's onnx mode on every shared labelled
// set (test/export/qdq-cases.ts; the 8-bit grid's generic and ort-web flavours: onnx-qdq.test.ts); and what
// onnxruntime's optimizer makes of each flavour (which ops fuse).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../calibration/index.js';
import { createIntegerRuntime } from '../../runtime/executor.js';
import { buildQdqModel, weightOutsideOrtNodeRange } from '../../src/export/onnx-qdq.js';
import { FlexqError } from '../../src/errors.js';
import { createOrtExecutor, ORT_SESSION_OPTIONS, qdqFlavourFor } from '../../targets/web/ort-executor.js';
import { compareWithRuntime, DSCNN, MNIST8, quantizeRtn, RESNET8, type Compared, type QdqCase } from './qdq-cases.js';

interface Case extends QdqCase {
  /**
   * The optimized model onnxruntime-node makes of every flavour (level 'all', x86-64): its ops apart from the layout
   * Transposes and the boundary Q/DQ. Pools, Flatten/Reshape and Softmax run on integers too; only the residual Sums
   * stay float between DQ and Q.
   */
  readonly optimized: Readonly<Record<string, number>>;
  /**
   * The ort-web flavour's, where it differs: depthwise Convs as integer-valued float Convs (these models have no dense
   * Conv both short and large enough for that path: ORT_WEB_MIN_QLINEAR_TERMS).
   */
  readonly optimizedWeb?: Readonly<Record<string, number>>;
}

const CASES: Case[] = [
  {
    ...RESNET8,
    optimized: { QLinearConv: 9, QGemm: 1, Sum: 3, QLinearGlobalAveragePool: 1, Flatten: 1, QLinearSoftmax: 1 },
  },
  {
    ...DSCNN,
    optimized: { QLinearConv: 9, QGemm: 1, QLinearGlobalAveragePool: 1, Flatten: 1, QLinearSoftmax: 1 },
    // Each depthwise Conv reads a ReLU output (stored zero point 0) through a Cast and ends in one QuantizeLinear at
    // its proved divisor: no Mul, no Clip; on x86 ORT runs it in its NCHWc layout (ReorderInput / ReorderOutput).
    optimizedWeb: { QLinearConv: 5, Conv: 4, Cast: 4, ReorderInput: 4, ReorderOutput: 4, QGemm: 1, QLinearGlobalAveragePool: 1, Flatten: 1, QLinearSoftmax: 1 },
  },
  {
    ...MNIST8,
    optimized: { QLinearConv: 2, NhwcMaxPool: 2, Reshape: 1, QGemm: 1 },
  },
];

/** The graph onnxruntime-node optimizes `bytes` into (level 'all', as the executors run it). */
async function optimizedGraph(bytes: Uint8Array, dir: string, name: string): Promise<pkg.onnx.IGraphProto> {
  const optimized = join(dir, `${name}.optimized.onnx`);
  const session = await ortNode.InferenceSession.create(bytes, { ...ORT_SESSION_OPTIONS, optimizedModelFilePath: optimized });
  await session.release();
  return pkg.onnx.ModelProto.decode(readFileSync(optimized)).graph!;
}

/** Op counts, without the layout Transposes (NCHW ↔ NHWC) and the boundary QuantizeLinear / DequantizeLinear. */
function opCounts(g: pkg.onnx.IGraphProto): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of g.node!) if (!['Transpose', 'QuantizeLinear', 'DequantizeLinear'].includes(n.opType!)) counts[n.opType!] = (counts[n.opType!] ?? 0) + 1;
  return counts;
}

/**
 * Convs computing on integer-valued floats (src/export/onnx-qdq.ts): their data input is a scale-1 DequantizeLinear
 * ('.int') or a Cast of the stored integers ('.stored'), directly or through the x86 NCHWc layout's ReorderInput.
 */
function integerValuedConvs(g: pkg.onnx.IGraphProto): number {
  const producer = new Map(g.node!.flatMap((n) => n.output!.map((o) => [o, n] as const)));
  const integerValued = (x: string): boolean => {
    const p = producer.get(x);
    return x.endsWith('.int') || x.endsWith('.stored') || (p?.opType === 'ReorderInput' && integerValued(p.input![0]));
  };
  return g.node!.filter((n) => n.opType === 'Conv' && integerValued(n.input![0])).length;
}

/** The ops that read a DequantizeLinear's real-valued output (a graph output counts as 'output'): float compute left. */
function floatReaders(g: pkg.onnx.IGraphProto): string[] {
  const dq = new Set(g.node!.filter((n) => n.opType === 'DequantizeLinear' && !n.output![0].endsWith('.int')).map((n) => n.output![0]));
  const readers = g.node!.filter((n) => n.input!.some((x) => dq.has(x))).map((n) => n.opType!);
  return [...new Set([...readers, ...g.output!.filter((o) => dq.has(o.name!)).map(() => 'output')])].sort();
}

for (const c of CASES) {
  describe(`ONNX QDQ flavours, ${c.name}`, () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'flexq-qdq-flavours-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it(`7-bit weights: the ort-node flavour in onnxruntime-node and -web, the ort-web flavour in onnxruntime-node, bit-exact with the runtime on ${c.inputs} inputs (every activation of ${c.layerInputs})`, async () => {
      const q = await quantizeRtn(c, 'int7');
      expect(qdqFlavourFor(q, 'node')).toBe('ort-node');
      const compared: Compared[] = [];
      try {
        for (const [kind, flavour] of [['node', 'ort-node'], ['web', 'ort-node'], ['node', 'ort-web']] as const)
          compared.push({ label: `ort-${kind} ${flavour}`, executor: await createOrtExecutor(q, kind, flavour) });
        const r = await compareWithRuntime(c, q, compared);
        expect(r.inputs).toBe(c.inputs);
        expect(r.differ).toEqual([]);
      } finally {
        for (const e of compared) await e.executor.dispose();
      }
    }, 600_000);

    it('7-bit weights lie in [−64, 63]; 8-bit ones do not, and the ort-node flavour refuses them naming the layer', async () => {
      const [q8, q7] = [await quantizeRtn(c, 'int8'), await quantizeRtn(c, 'int7')];
      expect(weightOutsideOrtNodeRange(q7)).toBeUndefined();
      expect([...q7.weights.values()].every((w) => w.bits <= 7 && w.qmin >= -64 && w.qmax <= 63)).toBe(true);
      const bad = weightOutsideOrtNodeRange(q8)!;
      expect(bad).toBeDefined();
      expect(qdqFlavourFor(q8, 'node')).toBe('generic');
      expect(() => buildQdqModel(q8, { io: 'float', flavour: 'ort-node' })).toThrow(FlexqError);
      expect(() => buildQdqModel(q8, { io: 'float', flavour: 'ort-node' })).toThrow(new RegExp(`node '${bad.node.name}'.*\\[-64, 63\\].*int7`));
    });

    it('records its flavour and activation type; --io int8 of a uint8 flavour is the runtime plus 128', async () => {
      const q = await quantizeRtn(c, 'int7');
      const rt = createIntegerRuntime(q, 'onnx');
      const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
      const ds = await openDataset({ ...c.heldOut, preprocess: c.preprocess, limit: 20, sampleShape: sample });
      const { value: batch } = await ds.batches(20)[Symbol.asyncIterator]().next();
      const x = rt.quantizeInput(batch.data);
      const want = rt.run({ shape: [batch.count, ...sample], data: x }).get(q.graph.outputs[0])!.data as Int8Array;
      for (const flavour of ['generic', 'ort-web', 'ort-node'] as const) {
        const bytes = buildQdqModel(q, { io: 'int8', flavour });
        const m = pkg.onnx.ModelProto.decode(bytes);
        expect(m.metadataProps).toEqual([expect.objectContaining({ key: 'flexq.flavour', value: flavour })]);
        const session = await ortNode.InferenceSession.create(bytes, ORT_SESSION_OPTIONS);
        const feed = flavour === 'generic' ? new ortNode.Tensor('int8', x, [batch.count, ...sample]) : new ortNode.Tensor('uint8', Uint8Array.from(x, (v) => v + 128), [batch.count, ...sample]);
        const y = (await session.run({ [q.graph.inputs[0]]: feed }))[q.graph.outputs[0]];
        await session.release();
        expect(y.type).toBe(flavour === 'generic' ? 'int8' : 'uint8');
        expect(Int8Array.from(y.data as ArrayLike<number>, (v) => (flavour === 'generic' ? v : v - 128))).toEqual(want);
      }
    });

    it('onnxruntime-node runs every Conv, Gemm and MatMul on integers in every flavour; no real-valued float Conv/Gemm/MatMul is left', async () => {
      const [q8, q7] = [await quantizeRtn(c, 'int8'), await quantizeRtn(c, 'int7')];
      for (const [flavour, q] of [['generic', q8], ['ort-web', q8], ['ort-node', q7]] as const) {
        const g = await optimizedGraph(buildQdqModel(q, { io: 'float', flavour }), dir, flavour);
        const ops = opCounts(g);
        const matmuls = q.graph.nodes.filter((n) => n.op === 'Conv' || n.op === 'Gemm' || n.op === 'MatMul').length;
        const integer = (ops.QLinearConv ?? 0) + (ops.QGemm ?? 0) + (ops.QLinearMatMul ?? 0) + (ops.MatMulInteger ?? 0) + (ops.ConvInteger ?? 0) + integerValuedConvs(g);
        expect({ flavour, integer, floatConvs: (ops.Conv ?? 0) - integerValuedConvs(g) }).toEqual({ flavour, integer: matmuls, floatConvs: 0 });
        expect({ flavour, ops }).toEqual({ flavour, ops: (flavour === 'ort-web' && c.optimizedWeb) || c.optimized });
        // Only the residual adds read dequantized floats (Sum on purpose, never QLinearAdd: src/export/onnx-qdq.ts),
        // and the ReLU after each of them, which ORT folds into a DQ → Q requantization (ReluQuantFusion).
        expect({ flavour, floatReaders: floatReaders(g) }).toEqual({ flavour, floatReaders: c.optimized.Sum ? ['QuantizeLinear', 'Sum', 'output'] : ['output'] });
      }
    }, 120_000);
  });
}
