/**
 * `npm run bench -- mcu-mobilenetv2 [PHOTOS] [LITERT_PHOTOS]`: the TFLite converter's MobileNetV2 (int8-qat.tflite) compiled for the
 * Cortex-M7 (QEMU mps2-an500) with the optimized kernels and --rounding xnnpack: instructions, flash, arena, the layers
 * whose GEMM weights stay int8 to fit the board's flash, and the photo-level proof that its top-1 is LiteRT's:
 *   C in QEMU = the runtime's tflite-xnnpack mode, byte for byte, on the first PHOTOS photos of imagenet-sample (10);
 *   the runtime's tflite-xnnpack mode = LiteRT.js (XNNPACK delegate), byte for byte, on the first LITERT_PHOTOS (100);
 * so the C's top-1 over those photos is LiteRT's.
 */
import { readFileSync } from 'node:fs';
import { createIntegerRuntime } from '../../runtime/executor.js';
import { openData } from '../../src/api/data.js';
import { defaultExecutor, openArtefact } from '../../src/api/executors.js';
import { importTfliteInt8 } from '../../src/import/tflite/import-tflite-int8.js';
import { sizeOf } from '../../src/ir/shape.js';
import { CORTEX_M_CORES } from '../../targets/cortex-m/boards.js';
import { checkFits } from '../../targets/cortex-m/build.js';
import { generateC } from '../../targets/cortex-m/library.js';
import { proveOnCortexM } from '../../targets/cortex-m/prove.js';
import { data, model } from '../helpers/shared.js';
import type { BenchResult } from './table.js';

const CLASSES = 1000;

/** Index of the first maximum of each row of CLASSES values. */
const argmaxRows = (values: ArrayLike<number>): number[] =>
  Array.from({ length: values.length / CLASSES }, (_, r) => {
    let best = 0;
    for (let k = 1; k < CLASSES; k++) if (values[r * CLASSES + k] > values[r * CLASSES + best]) best = k;
    return best;
  });

export default async function mcuMobilenetv2(args: string[]): Promise<BenchResult> {
  const photos = Number(args[0] ?? 10);
  const LITERT_PHOTOS = Math.max(photos, Number(args[1] ?? 100));
  const file = model('mobilenetv2-imagenet/int8-qat.tflite');
  const q = importTfliteInt8(readFileSync(file), file);
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  const set = await openData(data('imagenet-sample'), { preprocess: 'imagenet', limit: LITERT_PHOTOS }, sample);
  const floats = new Float32Array(LITERT_PHOTOS * sizeOf(sample));
  const labels = new Int32Array(LITERT_PHOTOS);
  let at = 0;
  for await (const b of set.batches(10)) {
    floats.set(b.data, at * sizeOf(sample));
    labels.set(b.labels!, at);
    at += b.count;
  }
  const runtime = createIntegerRuntime(q, 'tflite-xnnpack');
  const inputs = runtime.quantizeInput(floats);
  const runtimeBytes = runtime.run({ shape: [LITERT_PHOTOS, ...sample], data: inputs }).get(q.graph.outputs[0])!.data;

  const litert = await defaultExecutor(openArtefact(file), 'litert', { mode: 'tflite-xnnpack' });
  const theirs = (await litert.run({ shape: [LITERT_PHOTOS, ...sample], data: floats })).get(litert.graph.outputs[0])!.data;
  await litert.dispose();
  const grid = q.activations.get(q.graph.outputs[0])!;
  const litertBytes = Int8Array.from(theirs, (v) => Math.round(v / grid.scale) + grid.zeroPoint); // dequantized on the same grid
  let runtimeVsLitert = 0;
  for (let i = 0; i < runtimeBytes.length; i++) if (runtimeBytes[i] !== litertBytes[i]) runtimeVsLitert++;

  const core = CORTEX_M_CORES['cortex-m7'];
  const c = generateC(q, 'optimized', { rounding: 'xnnpack', board: core.name });
  checkFits(c, core, file);
  const r = await proveOnCortexM(q, c, core, inputs.subarray(0, photos * c.inputBytes), photos);
  if (!r.bitExact) throw new Error(`MobileNetV2 on the M7, xnnpack rounding: ${r.mismatchedBytes} bytes differ from the runtime's tflite-xnnpack on ${photos} photos`);

  const correct = (bytes: ArrayLike<number>, n: number): number => argmaxRows(bytes).slice(0, n).filter((p, i) => p === labels[i]).length;
  const kib = (n: number): string => (n / 1024).toFixed(1);
  return {
    title: `MobileNetV2 int8-qat.tflite on the Cortex-M7 (QEMU mps2-an500), optimized kernels, --rounding xnnpack; top-1 on imagenet-sample`,
    columns: ['what', 'value'],
    rows: [
      ['M instructions per inference', (r.instructionsPerInference / 1e6).toFixed(1)],
      ['flash KiB (text + rodata + data)', kib(r.flashBytes)],
      ['weights and tables KiB', kib(r.constantBytes)],
      ['layers with int8 GEMM weights (SXTB16) to fit 4 MiB of flash', `${c.int8WeightLayers.length} of 53`],
      ['arena KiB', kib(r.arenaBytes)],
      ['stack KiB', kib(r.stackBytes)],
      [`C bytes ≠ runtime tflite-xnnpack, ${photos} photos`, r.mismatchedBytes],
      [`runtime tflite-xnnpack bytes ≠ LiteRT.js XNNPACK, ${LITERT_PHOTOS} photos`, runtimeVsLitert],
      [`top-1 C (QEMU), ${photos} photos`, correct(r.bitExact ? runtimeBytes : [], photos)],
      [`top-1 LiteRT.js, ${photos} photos`, correct(litertBytes, photos)],
      [`top-1 runtime tflite-xnnpack, ${LITERT_PHOTOS} photos`, correct(runtimeBytes, LITERT_PHOTOS)],
      [`top-1 LiteRT.js, ${LITERT_PHOTOS} photos`, correct(litertBytes, LITERT_PHOTOS)],
    ],
    notes: [
      'The C is checked byte for byte against the runtime on the photos it ran, so its top-1 there is counted on those same bytes.',
      `Instructions: QEMU -icount shift=0 and SysTick (${r.instructionsPerTick} per tick), first photo.`,
    ],
    extra: { report: { ...r, elf: undefined }, int8WeightLayers: c.int8WeightLayers },
  };
}
