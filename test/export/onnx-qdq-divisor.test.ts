// The ort-web flavour's unpadded integer Convs end in one QuantizeLinear(acc, d) instead of Mul(M) → Clip →
// QuantizeLinear(1) (src/export/onnx-qdq.ts requantizingDivisor). Here onnxruntime-web's and -node's QuantizeLinear,
// fed every accumulator of each window, give the runtime's onnx-mode requantization fp32(acc · M) byte for byte with the
// divisor the export proves, where the plain fp32(1/M) does not always.
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { requantizeFp32 } from '../../runtime/requant/fp32-epilogue.js';
import { requantizingDivisor } from '../../src/export/onnx-qdq.js';
import { loadOrt, ORT_SESSION_OPTIONS } from '../../targets/web/ort-executor.js';

const { onnx } = pkg;

/** X (float [n]) → QuantizeLinear(d, zp) → Y (uint8 [n]), encoded. */
function quantizeModel(n: number, divisor: number, zeroPoint: number): Uint8Array {
  const info = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType, shape: { dim: [{ dimValue: n }] } } } });
  const graph: pkg.onnx.IGraphProto = {
    name: 'q',
    input: [info('X', 1)],
    output: [info('Y', 2)],
    initializer: [
      { name: 'd', dataType: 1, dims: [], rawData: new Uint8Array(Float32Array.of(divisor).buffer) },
      { name: 'z', dataType: 2, dims: [], rawData: Uint8Array.of(zeroPoint) },
    ],
    node: [{ opType: 'QuantizeLinear', input: ['X', 'd', 'z'], output: ['Y'] }],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

/** Mismatched bytes of QuantizeLinear(acc, divisor) in `ort` against the runtime's requantization of acc with `multiplier`. */
async function mismatched(ort: Awaited<ReturnType<typeof loadOrt>>, acc: Float32Array, multiplier: number, divisor: number, zeroPoint: number): Promise<number> {
  const session = await ort.InferenceSession.create(quantizeModel(acc.length, divisor, zeroPoint + 128), ORT_SESSION_OPTIONS);
  const y = (await session.run({ X: new ort.Tensor('float32', acc, [acc.length]) })).Y.data as Uint8Array;
  await session.release();
  return y.filter((v, i) => v !== requantizeFp32(acc[i], multiplier, zeroPoint, -128, 127) + 128).length;
}

/** Every accumulator from just below the window that saturates low to just above the one that saturates high. */
function window(multiplier: number, zeroPoint: number): Float32Array {
  const [first, last] = [Math.floor((-130 - zeroPoint) / multiplier), Math.ceil((129 - zeroPoint) / multiplier)];
  return Float32Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

describe('QuantizeLinear with the proved divisor is the runtime requantization', () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const randomGrid = () => ({ multiplier: Math.fround(2 ** (-11 + 8 * random())), zeroPoint: -128 + Math.floor(256 * random()) });
  const divisorOf = ({ multiplier, zeroPoint }: { multiplier: number; zeroPoint: number }) => requantizingDivisor(multiplier, -128 - zeroPoint, 127 - zeroPoint, 2 ** 23);

  it('12 random multipliers 2^-11 … 2^-3, every accumulator of each window, in onnxruntime-web and -node', async () => {
    const [web, node] = [await loadOrt('web'), await loadOrt('node')];
    let [compared, proved] = [0, 0];
    for (let k = 0; k < 12; k++) {
      const grid = randomGrid();
      const divisor = divisorOf(grid);
      if (divisor === undefined) continue; // the export keeps Mul → Clip → QuantizeLinear(1) there
      proved++;
      const acc = window(grid.multiplier, grid.zeroPoint);
      for (const ort of [web, node]) expect({ k, ...grid, mismatched: await mismatched(ort, acc, grid.multiplier, divisor!, grid.zeroPoint) }).toEqual({ k, ...grid, mismatched: 0 });
      compared += acc.length;
    }
    expect(proved).toBeGreaterThanOrEqual(10);
    expect(compared).toBeGreaterThan(5e5);
  }, 60_000);

  it('where fp32(1/M) rounds one accumulator differently, the proof picks a neighbour that does not', async () => {
    const web = await loadOrt('web');
    let grid = randomGrid();
    while ([undefined, Math.fround(1 / grid.multiplier)].includes(divisorOf(grid))) grid = randomGrid();
    const divisor = divisorOf(grid)!;
    const acc = window(grid.multiplier, grid.zeroPoint);
    expect(await mismatched(web, acc, grid.multiplier, Math.fround(1 / grid.multiplier), grid.zeroPoint)).toBeGreaterThan(0);
    expect(await mismatched(web, acc, grid.multiplier, divisor, grid.zeroPoint)).toBe(0);
  }, 60_000);
});
