// ONNX's own backend test cases exported from PyTorch (opset 6, and 9 for PixelShuffle), from the onnx repository
// (Apache-2.0, see test/fixtures/onnx-backend/LICENSE.md): each model runs on the float executor and matches the
// expected output stored beside it.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { decodeTensor } from '../../src/import/onnx/tensor-proto.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { relativeMaxError } from '../helpers/shared.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx-backend/', import.meta.url));
const CASES = readdirSync(FIXTURES).filter((name) => name.startsWith('test_')).sort();

/** A TensorProto file of a backend test case as flexq's tensor. */
function readTensor(path: string): { shape: number[]; data: Float32Array } {
  const value = decodeTensor(pkg.onnx.TensorProto.decode(readFileSync(path)), path, path);
  return { shape: value.shape as number[], data: value.data as Float32Array };
}

describe('ONNX backend test cases exported from PyTorch', () => {
  it('has the cases (the suite cannot pass by finding none)', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(32);
  });

  it.each(CASES)('%s matches its expected output', async (name) => {
    const graph = optimizeGraph(importOnnx(readFileSync(`${FIXTURES}${name}/model.onnx`), `${name}/model.onnx`));
    expect(verifyGraph(graph)).toEqual([]);
    const x = readTensor(`${FIXTURES}${name}/test_data_set_0/input_0.pb`);
    const want = readTensor(`${FIXTURES}${name}/test_data_set_0/output_0.pb`);
    const ex = await createFloatExecutor(graph);
    const got = ex.run({ [graph.inputs[0]]: x }).get(graph.outputs[0])!;
    ex.dispose();
    expect(got.shape).toEqual(want.shape);
    expect(relativeMaxError(got.data, want.data)).toBeLessThan(1e-5);
  });
});
