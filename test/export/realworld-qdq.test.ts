// The real-world models of issue 22 (PaddleOCR's text-direction classifier, MediaPipe Selfie Segmentation and
// BlazeFace) exported to ONNX QDQ in every flavour and run in onnxruntime-node and onnxruntime-web (wasm, in Node):
// zero differing bytes in every activation, outputs included, against the integer runtime's onnx mode, on held-out
// photos. Their ops: BN-folded Convs, depthwise and 1×1, HardSwish, HardSigmoid, Sigmoid, squeeze-excite Mul
// (broadcast [N,C,1,1]), GlobalAveragePool, bilinear Resize, ConvTranspose, channel Pad, MaxPool, Concat, Reshape,
// Transpose, Gemm, Softmax. RTN W8A8 with 8-bit weights runs the generic flavour in both runtimes and the ort-web one in
// onnxruntime-web, with 7-bit weights the ort-node one; ppocr-cls also FlexRound (2 iterations per layer: other
// roundings, the same ops), ort-web and ort-node.
import { describe, expect, it } from 'vitest';
import { openDataset, type Preprocess } from '../../calibration/index.js';
import { runtimeExecutor } from '../../src/api/executors.js';
import { quantize, type QuantizeOptions } from '../../src/index.js';
import type { QdqFlavour } from '../../src/export/onnx-qdq.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import type { FloatTensor } from '../../src/tensor.js';
import { createOrtExecutor, type OrtKind } from '../../targets/web/ort-executor.js';
import { data, hasShared, model } from '../helpers/shared.js';

const PHOTOS = data('imagenet-sample');
/** Calibration photos come first in the folder; the compared ones from offset 500 on, all in one batch. */
const CALIBRATION = 4;
const HELD_OUT = { offset: 500, limit: 2 };
const KINDS: readonly OrtKind[] = ['node', 'web'];

interface RealModel {
  readonly name: string;
  readonly file: string;
  readonly preprocess: Preprocess;
  readonly inputShape?: readonly number[];
  /** Also quantized with FlexRound (7-bit weights, a few iterations per layer). */
  readonly flexround?: boolean;
}

// ppocr-cls: (pixel/255 − 0.5)/0.5 on the photo squeezed to 48×192, PaddleOCR's normalisation = the mediapipe-face preset.
const MODELS: readonly RealModel[] = [
  { name: 'ppocr-cls', file: model('ppocr-cls/model.onnx'), preprocess: 'mediapipe-face', inputShape: [1, 3, 48, 192], flexround: true },
  { name: 'Selfie Segmentation', file: model('mediapipe-selfie-segmentation/model.tflite'), preprocess: 'mediapipe-selfie' },
  { name: 'BlazeFace', file: model('mediapipe-face-detection/model.tflite'), preprocess: 'mediapipe-face' },
];

/** A quantization of a model and the flavours it exports (ort-node needs 7-bit weights). */
interface Variant {
  readonly label: string;
  readonly options: Pick<QuantizeOptions, 'method' | 'weightRange' | 'iters'>;
  readonly flavours: readonly QdqFlavour[];
}

/**
 * Where a flavour is exact: the ort-web flavour's uint8 activations with 8-bit weights can saturate onnxruntime-node's
 * u8s8 kernels on x86 without VNNI (an AVX2-only EPYC: 175 activations of ppocr-cls and Selfie differ), so it runs in
 * onnxruntime-web only.
 */
const kindsOf = (flavour: QdqFlavour, v: Variant): readonly OrtKind[] => (flavour === 'ort-web' && v.options.weightRange === 'int8' ? ['web'] : KINDS);

const variantsOf = (m: RealModel): Variant[] => [
  { label: 'RTN W8A8', options: { method: 'rtn', weightRange: 'int8' }, flavours: ['generic', 'ort-web'] },
  { label: 'RTN W8A8, 7-bit weights', options: { method: 'rtn', weightRange: 'int7' }, flavours: ['ort-node'] },
  ...(m.flexround ? [{ label: 'FlexRound W8A8, 7-bit weights', options: { method: 'flexround', weightRange: 'int7', iters: 2 }, flavours: ['ort-web', 'ort-node'] } as const] : []),
];

/** The held-out photos as one batch in the model's input shape. */
async function heldOut(q: QuantizedGraph, m: RealModel): Promise<FloatTensor> {
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  const ds = await openDataset({ path: PHOTOS, ...HELD_OUT, preprocess: m.preprocess, sampleShape: sample });
  const { value: batch } = await ds.batches(HELD_OUT.limit)[Symbol.asyncIterator]().next();
  return { shape: [batch.count, ...sample], data: batch.data };
}

/** Elements that differ between two dequantized 8-bit tensors (equal floats iff equal integers). */
function mismatches(a: Float32Array, b: Float32Array): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

for (const m of MODELS)
  describe.skipIf(!hasShared)(`${m.name} as ONNX QDQ in onnxruntime-node and -web`, () => {
    for (const v of variantsOf(m))
      it(`${v.label}: ${v.flavours.join(', ')} flavours, every activation of ${HELD_OUT.limit} held-out photos bit-exact with the runtime (onnx)`, async () => {
        const q = await quantize(m.file, { calib: PHOTOS, limit: CALIBRATION, wbits: 8, abits: 8, preprocess: m.preprocess, inputShape: m.inputShape, seed: 0, ...v.options });
        const input = await heldOut(q, m);
        const layers = [...q.activations.keys()].filter((x) => !q.graph.inputs.includes(x));
        const want = await (await runtimeExecutor(q, { mode: 'onnx' })).run(input, layers);
        const differing: Record<string, number> = {};
        let compared = 0;
        for (const flavour of v.flavours)
          for (const kind of kindsOf(flavour, v)) {
            const executor = await createOrtExecutor(q, kind, flavour);
            try {
              const got = await executor.run(input, layers);
              for (const x of layers) {
                const n = mismatches(want.get(x)!.data, got.get(x)!.data);
                if (n) differing[`${flavour} in ort-${kind}: ${x}`] = n;
                compared += got.get(x)!.data.length;
              }
            } finally {
              await executor.dispose();
            }
          }
        const runs = v.flavours.reduce((sum, flavour) => sum + kindsOf(flavour, v).length, 0);
        expect(compared).toBeGreaterThan(layers.length * runs * HELD_OUT.limit);
        expect(differing).toEqual({});
      }, 120_000);
  });
