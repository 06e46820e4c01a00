import { describe, expect, it } from 'vitest';
import { producers } from '../../src/ir/graph.js';
import { loadModel } from '../../src/load-model.js';
import { reconstructionUnits } from '../../src/quant/blocks.js';
import { weightedLayers } from '../../src/quant/layers.js';
import { isReconstructible } from '../../src/quant/node-autodiff.js';
import { hasShared, model } from '../helpers/shared.js';

const CASES = [
  // [model, residual blocks expected among the units]
  ['mobilenetv2-imagenet/float-from-int8.onnx', 10],
  ['resnet8-cifar10/float.onnx', 3],
  // A U-Net: 8 residual blocks; its other 6 Adds join an encoder feature (a skip connection) to the decoder, and span
  // no one-input block.
  ['mediapipe-selfie-segmentation/model.tflite', 8],
] as const;

describe.skipIf(!hasShared).each(CASES)('%s: block-wise reconstruction units', (file, residualBlocks) => {
  const { graph } = hasShared ? loadModel(model(file), {}) : ({} as ReturnType<typeof loadModel>);

  it('cover every reconstructible layer once, each unit reading one computed value from outside', () => {
    const units = reconstructionUnits(graph, 'block');
    const made = producers(graph);
    const layers = weightedLayers(graph).map((l) => l.node).filter((n) => isReconstructible(n.op));
    const covered = units.flatMap((u) => u.nodes).filter((n) => layers.includes(n));
    expect(new Set(covered).size).toBe(covered.length);
    expect(covered.length).toBe(layers.length);
    for (const u of units) {
      const inside = new Set(u.nodes.flatMap((n) => n.outputs));
      const outside = new Set(u.nodes.flatMap((n) => n.inputs).filter((v) => v && !inside.has(v) && (made.has(v) || v === graph.inputs[0])));
      expect([...outside], u.name).toEqual([u.input]);
    }
    expect(units.filter((u) => u.nodes.some((n) => n.op === 'Add')).length).toBe(residualBlocks);
  });
});
