// The C kernels of Mul, Resize, ConvTranspose, Pad, Transpose and Concat on the attribute cases the real models do not
// reach: Mul broadcast both ways, Resize with align_corners, ConvTranspose with stride 2 and uneven crops, Pad of
// H and W, a 4-axis Transpose, Concat of inputs on their own grids (the rescale tables) and two outputs. A small
// ONNX net, W8A8 RTN, its generated C built for the host under ASan + UBSan: every output byte equals the runtime's.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpyFloat32 } from '../../../src/api/npy.js';
import { quantize } from '../../../src/api/quantize.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { runTool } from '../../../src/run-tool.js';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { C_WARNINGS, HARNESS_DIR, writeGenerated } from '../../../targets/cortex-m/build.js';
import { C_REQUANT_MODE, KERNEL_SETS } from '../../../targets/cortex-m/lower.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { runtimeOutputBytes } from '../../../targets/cortex-m/prove.js';
import { randomFloats } from '../../helpers/graphs.js';
import { ints, OnnxNet, str } from '../../helpers/onnx-net.js';

const dir = mkdtempSync(join(tmpdir(), 'flexq-data-ops-c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SAMPLES = 4;
/** Input height and width: planes of 400, more than 256, so the optimized set's per-plane Mul table is taken. */
const S = 20;
const SANITIZERS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

/** x [1,3,S,S] → two outputs: a Concat of four flattened branches, and a transposed-conv map. */
function net(): Uint8Array {
  const n = new OnnxNet([1, 3, S, S]);
  const a = n.conv('x', 3, 4, 3, { pad: 1 });
  const b = n.conv('x', 3, 4, 1);
  const gate = n.op('GlobalAveragePool', [b]); // [1,4,1,1]
  const row = n.op('AveragePool', [a], [ints('kernel_shape', [S, 1])]); // [1,4,1,S]
  const se = n.op('Mul', [a, gate]);
  const outer = n.op('Mul', [gate, row]); // both operands broadcast: [1,4,1,1] × [1,4,1,S]
  const resized = n.op('Resize', [se, '', n.float32([1, 1, 1.5, 2], [4])], [str('mode', 'linear'), str('coordinate_transformation_mode', 'align_corners')]);
  const padded = n.op('Pad', [resized, n.int64([0, 1, 2, 0, 0, 0, 1, 3])]); // [1,5,1.5·S+3,2·S+3]
  const moved = n.op('Transpose', [padded], [ints('perm', [0, 2, 3, 1])]);
  const flat = (v: string) => n.op('Reshape', [v, n.int64([1, -1])]);
  const joined = n.op('Concat', [flat(moved), flat(outer), flat(se), flat(b)], [{ name: 'axis', type: 2, i: 1 }]);
  const w = n.weight([4, 2, 3, 3], 0.3);
  const up = n.op('ConvTranspose', [se, w, n.weight([2], 0.1)], [ints('strides', [2, 2]), ints('pads', [1, 0, 0, 1])]);
  return n.bytesWithOutputs([joined, up]);
}

describe('C kernels of the data-movement and broadcast ops on the host under ASan + UBSan', () => {
  let q: QuantizedGraph;
  let inputs: Int8Array;
  beforeAll(async () => {
    const model = join(dir, 'ops.onnx');
    writeFileSync(model, net());
    const calib = join(dir, 'x.npy');
    writeFileSync(calib, encodeNpyFloat32([SAMPLES, 3, S, S], randomFloats(SAMPLES * 3 * S * S, 5).map((v) => 2 * v)));
    q = await quantize(model, { calib, method: 'rtn', wbits: 8, abits: 8, seed: 0 });
    inputs = createIntegerRuntime(q, C_REQUANT_MODE).quantizeInput(randomFloats(SAMPLES * 3 * S * S, 6).map((v) => 2 * v));
  });

  it.each(KERNEL_SETS)('%s kernels: both outputs equal the runtime\'s bytes', async (kernels) => {
    const generated = generateC(q, kernels);
    expect(generated.outputs.map((o) => o.shape)).toEqual([[5 * 33 * 43 + 4 * S + 2 * 4 * S * S], [2, 2 * S, 2 * S]]);
    expect(generated.files.has('mul_per_plane.c')).toBe(kernels === 'optimized');
    const out = join(dir, kernels);
    writeGenerated(generated, out);
    const exe = join(out, 'host');
    const gcc = await runTool('gcc', [...C_WARNINGS, '-O1', '-g', ...SANITIZERS, `-I${out}`, ...generated.sources.map((s) => join(out, s)), join(HARNESS_DIR, 'host_main.c'), '-o', exe]);
    expect(gcc.stderr).toBe('');
    writeFileSync(join(out, 'in.bin'), inputs);
    const run = await runTool(exe, [join(out, 'in.bin'), join(out, 'out.bin')]);
    expect(run.stderr).toBe('');
    expect(new Int8Array(readFileSync(join(out, 'out.bin')))).toEqual(runtimeOutputBytes(q, inputs, SAMPLES, C_REQUANT_MODE));
  });

  it('--rounding xnnpack refuses the Mul: the tflite-xnnpack mode multiplies in XNNPACK\'s fp32, the C kernel in fixed point', () => {
    expect(() => generateC(q, 'optimized', { rounding: 'xnnpack' })).toThrow(/\(Mul\): the C kernel of Mul has no --rounding xnnpack form .*use --rounding single or double/);
  });
});
