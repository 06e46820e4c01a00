// The optimized kernels on the shapes the shared models leave out, in QEMU on the M4 (DSP) and the M55 (Helium):
// depthwise 3×3 stride 2, 5×5, channel multiplier 2 (the MVE depthwise's generic tap loop and gathers at strided
// offsets), an odd output-channel count (the GEMM's lone last channel) and an odd number of output pixels, an odd
// fully-connected width, a residual Add (fused into its conv where that shrinks the arena). A small random network
// (RTN W8A8 on random data) gives the integer runtime's bytes, in the default double rounding, with every conv's and
// the fully-connected layer's GEMM weights kept int8 (SXTB16, or VLDRB.S16 gathers on the M55) as a flash budget of 0
// makes the lowering choose, and through the qemu-m4 executor in --rounding xnnpack (fp32 requantization of the conv,
// depthwise and fully-connected layers, XNNPACK's add and mean; mode tflite-xnnpack).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpyFloat32 } from '../../../src/api/npy.js';
import { quantize } from '../../../src/api/quantize.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { CORTEX_M_CORES } from '../../../targets/cortex-m/boards.js';
import { buildElf } from '../../../targets/cortex-m/build.js';
import { emitC } from '../../../targets/cortex-m/emit-c.js';
import { qemuExecutor } from '../../../targets/cortex-m/executor.js';
import { C_REQUANT_MODE, DEFAULT_C_ROUNDING, lowerForC } from '../../../targets/cortex-m/lower.js';
import { runInQemu } from '../../../targets/cortex-m/qemu.js';
import { randomFloats } from '../../helpers/graphs.js';
import { int, ints, OnnxNet } from '../../helpers/onnx-net.js';
import { lacksTools } from '../../helpers/tools.js';
import { mismatchedBytes } from './cases.js';

const SHAPE = [4, 13, 11];
const INPUTS = 8;

const dir = mkdtempSync(join(tmpdir(), 'flexq-kernel-shapes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Depthwise conv of `c` channels (× multiplier), square k×k window. */
function depthwise(net: OnnxNet, x: string, c: number, multiplier: number, k: number, o: { pad: number; stride: number }): string {
  const w = net.weight([c * multiplier, 1, k, k], 1.7 / k);
  const b = net.weight([c * multiplier], 0.1);
  return net.op('Conv', [x, w, b], [ints('kernel_shape', [k, k]), ints('pads', [o.pad, o.pad, o.pad, o.pad]), ints('strides', [o.stride, o.stride]), int('group', c)]);
}

function network(): Uint8Array {
  const net = new OnnxNet([1, ...SHAPE]);
  let x = net.op('Relu', [net.conv('x', 4, 6, 3, { pad: 1 })]);
  x = net.op('Relu', [depthwise(net, x, 6, 1, 3, { pad: 1, stride: 2 })]); // 6 × 7 × 6
  x = net.op('Add', [x, net.conv(x, 6, 6, 1)]);
  x = net.op('Relu', [depthwise(net, x, 6, 2, 5, { pad: 2, stride: 1 })]); // 12 × 7 × 6
  x = net.op('Relu', [net.conv(x, 12, 7, 1)]); // 7 channels: the lone last one
  x = depthwise(net, x, 7, 1, 3, { pad: 0, stride: 1 }); // 7 × 5 × 4
  x = net.op('Flatten', [net.op('GlobalAveragePool', [x])]);
  return net.bytes(net.gemm(x, 7, 5));
}

describe.skipIf(lacksTools('arm-gcc', 'qemu-arm'))('optimized kernels on shapes beyond the shared models', () => {
  let q: QuantizedGraph;
  let floats: Float32Array;
  beforeAll(async () => {
    const model = join(dir, 'shapes.onnx');
    const data = join(dir, 'x.npy');
    writeFileSync(model, network());
    writeFileSync(data, encodeNpyFloat32([32, ...SHAPE], randomFloats(32 * SHAPE.reduce((a, b) => a * b), 5).map((v) => 2 * v)));
    q = await quantize(model, { calib: data, method: 'rtn', wbits: 8, abits: 8 });
    floats = randomFloats(INPUTS * SHAPE.reduce((a, b) => a * b), 9).map((v) => 2 * v);
  });

  const runs = (['cortex-m4', 'cortex-m55'] as const).flatMap((coreName) => [false, true].map((int8Weights) => ({ coreName, int8Weights })));
  for (const { coreName, int8Weights } of runs) {
    it(`${coreName}${int8Weights ? ', int8 GEMM weights' : ''}: ${INPUTS} outputs equal the integer runtime's bytes`, async () => {
      const runtime = createIntegerRuntime(q, C_REQUANT_MODE);
      const inputs = runtime.quantizeInput(floats);
      const expected = runtime.run({ shape: [INPUTS, ...SHAPE], data: inputs }).get(q.graph.outputs[0])!.data;
      const core = CORTEX_M_CORES[coreName];
      const lowered = lowerForC(q, 'optimized', DEFAULT_C_ROUNDING, { constantBudget: int8Weights ? 0 : undefined });
      expect(lowered.int8WeightLayers.length).toBe(int8Weights ? 4 : 0); // the three one-group convs and the fully-connected layer
      const generated = emitC(lowered, 'optimized');
      const { elf } = await buildElf(generated, core, 'shapes.onnx');
      const run = await runInQemu(elf, core, inputs, INPUTS, generated.outputBytes, { icount: false });
      expect(expected.length).toBe(INPUTS * 5);
      expect(new Set(expected).size).toBeGreaterThan(4); // outputs spread over the grid, not one saturated value
      expect(mismatchedBytes(run.outputs, expected)).toBe(0);
    });
  }

  it('the qemu-m4 executor builds the C in the rounding of the mode it is given (tflite-xnnpack: --rounding xnnpack)', async () => {
    const executor = await qemuExecutor('cortex-m4')(q, { mode: 'tflite-xnnpack' });
    expect(executor.name).toContain('xnnpack rounding');
    const runtime = createIntegerRuntime(q, 'tflite-xnnpack');
    const want = runtime.run({ shape: [INPUTS, ...SHAPE], data: runtime.quantizeInput(floats) }).get(q.graph.outputs[0])!.data;
    const got = (await executor.run({ shape: [INPUTS, ...SHAPE], data: floats })).get(q.graph.outputs[0])!;
    const grid = q.activations.get(q.graph.outputs[0])!;
    expect(mismatchedBytes(Int8Array.from(got.data, (v) => Math.round(v / grid.scale) + grid.zeroPoint), want)).toBe(0);
    await executor.dispose();
  });
});
