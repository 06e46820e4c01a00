import { toNumbers } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { scaledDim } from '../ir/shape.js';
import { nodeError, requireInput, stringAttr, type OpContract } from './contract.js';

/** Coordinate modes of a nearest Resize, onnxruntime's names (tf_crop_and_resize reads a roi: not supported). */
export const NEAREST_COORDINATES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'] as const;
export const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
export type NearestCoordinates = (typeof NEAREST_COORDINATES)[number];
export type NearestMode = (typeof NEAREST_MODES)[number];

/** A nearest Resize's two attributes, checked: the node's error names what is supported. */
export function nearestAttributes(node: Node): { coordinates: NearestCoordinates; nearest: NearestMode } {
  const given = stringAttr(node, 'coordinateTransformationMode', 'half_pixel');
  const nearestGiven = stringAttr(node, 'nearestMode', 'round_prefer_floor');
  const coordinates = NEAREST_COORDINATES.find((c) => c === given);
  const nearest = NEAREST_MODES.find((m) => m === nearestGiven);
  if (!coordinates) return nodeError(node, `nearest Resize with coordinate_transformation_mode '${given}'; supported: ${NEAREST_COORDINATES.join(', ')}`);
  if (!nearest) return nodeError(node, `nearest_mode '${nearestGiven}'; supported: ${NEAREST_MODES.join(', ')}`);
  return { coordinates, nearest };
}

/** std::round: half away from zero. */
const roundHalfAway = (v: number): number => Math.sign(v) * Math.round(Math.abs(v));

/**
 * onnxruntime's source index of every output index along one axis of a nearest Resize (UpsampleNearestSetupInputMappings):
 * the original coordinate in fp32 with scale = fp32(output / input), e.g. half_pixel p = (o + ½)/scale − ½,
 * asymmetric p = o/scale, align_corners p = o·(in − 1)/(out − 1); then round_prefer_floor (a .5 tie goes down, else
 * half away from zero), round_prefer_ceil (half away from zero), floor or ceil; clamped to [0, in − 1].
 * Nearest only copies values, so every executor of every format uses these indices (the TFLite export checks that
 * RESIZE_NEAREST_NEIGHBOR's flags give the same ones).
 */
export function nearestIndices(input: number, output: number, coordinates: NearestCoordinates, nearest: NearestMode): Int32Array {
  const f32 = Math.fround;
  const scale = f32(output / input);
  const indices = new Int32Array(output);
  for (let o = 0; o < output; o++) {
    const p =
      coordinates === 'asymmetric' ? f32(o / scale)
      : coordinates === 'align_corners' ? (output === 1 ? 0 : f32(f32(o * (input - 1)) / (output - 1)))
      : coordinates === 'tf_half_pixel_for_nn' ? f32(f32(o + 0.5) / scale)
      : coordinates === 'pytorch_half_pixel' && output === 1 ? 0
      : f32(f32(f32(o + 0.5) / scale) - 0.5);
    const i =
      nearest === 'floor' ? Math.floor(p)
      : nearest === 'ceil' ? Math.ceil(p)
      : nearest === 'round_prefer_floor' && p === Math.floor(p) + 0.5 ? Math.floor(p)
      : roundHalfAway(p);
    indices[o] = Math.min(Math.max(i, 0), input - 1);
  }
  return indices;
}

/** The output size of one axis: the sizes input's, else ⌊input · scale⌋ (ONNX's rule). */
export function resizedDim(input: number, axis: number, scales: readonly number[] | undefined, sizes: readonly number[] | undefined): number {
  return sizes && sizes.length > 0 ? sizes[axis] : Math.floor(input * scales![axis]);
}

/**
 * Resize(X, roi?, scales?, sizes?) on NCHW, with constant scales or sizes.
 * Attributes: mode ('nearest' | 'linear'), coordinateTransformationMode, nearestMode.
 */
export const resize: OpContract = {
  op: 'Resize',
  minInputs: 1,
  maxInputs: 4,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const sizes = inputs[3]?.data ? toNumbers(inputs[3].data) : undefined;
    const scales = inputs[2]?.data ? toNumbers(inputs[2].data) : undefined;
    if (stringAttr(node, 'mode', 'nearest') === 'nearest') nearestAttributes(node);
    if (sizes && sizes.length > 0) {
      if (sizes.length !== x.shape.length || sizes.some((d) => !Number.isSafeInteger(d) || d < 1))
        return nodeError(node, `sizes [${sizes}] must give one integer ≥ 1 per dim of [${x.shape}]`);
      return [{ dtype: x.dtype, shape: sizes }];
    }
    if (!scales || scales.length !== x.shape.length)
      return nodeError(node, 'needs constant scales (one per dim) or sizes');
    if (scales.some((f) => !Number.isFinite(f) || f <= 0)) return nodeError(node, `scales [${scales}] must be finite and > 0`);
    // Executors place sources with scale = output/input: a scale whose ⌊d·scale⌋ drops a fraction would place them elsewhere than onnxruntime.
    const inexact = x.shape.findIndex((d, i) => typeof d === 'number' && Math.fround(Math.floor(d * scales[i]) / d) !== Math.fround(scales[i]));
    if (inexact >= 0)
      return nodeError(node, `scale ${scales[inexact]} on dim ${inexact} of [${x.shape}] gives ${Math.floor(Number(x.shape[inexact]) * scales[inexact])}, not an exact multiple; give the Resize 'sizes' instead of 'scales'`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]) : Number.isInteger(scales[i]) ? scaledDim(d, scales[i]) : `${node.outputs[0]}:${i}`)) }];
  },
};
