// A small DBNet-like text detector written in code, the shape of PaddleOCR's detection models: input [1,3,H,W]
// with symbolic H and W; a conv + BatchNormalization + Relu backbone at strides 2, 4 and 8; an FPN top-down path
// of nearest Resize ×2 + Add; the levels' maps up-sampled with nearest Resize to stride 2 and concatenated; a
// global-context term (GlobalAveragePool, added per plane) and a per-channel constant added with broadcasting ([C,1,1]); a head conv → BN → Relu → ConvTranspose ×2 twice →
// Sigmoid giving the probability map [1,1,2H,2W]. Seeded weights; BN with non-trivial statistics.
import { ints, OnnxNet, str } from './onnx-net.js';

/** Channels of the backbone levels and of the FPN. */
const LEVELS = [8, 16, 16] as const;
const FPN = 8;

/** Nearest Resize by `factor` on H and W, in one of ONNX's coordinate modes (nearest_mode as given). */
function upsample(n: OnnxNet, x: string, factor: number, coordinates: string, nearestMode: string): string {
  const scales = n.float32([1, 1, factor, factor]);
  return n.op('Resize', [x, '', scales], [str('mode', 'nearest'), str('coordinate_transformation_mode', coordinates), str('nearest_mode', nearestMode)]);
}

const convBnRelu = (n: OnnxNet, x: string, cin: number, cout: number, k: number, stride = 1): string =>
  n.op('Relu', [n.batchNorm(n.conv(x, cin, cout, k, { pad: (k - 1) / 2, stride }), cout)]);

/** ConvTranspose k2 s2 (doubles H and W), then BN. */
function upConv(n: OnnxNet, x: string, cin: number, cout: number): string {
  const w = n.weight([cin, cout, 2, 2], 1.7 / Math.sqrt(cin));
  return n.batchNorm(n.op('ConvTranspose', [x, w, n.weight([cout], 0.1)], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]), cout);
}

/** The detector's ONNX bytes: input 'x' [1,3,'H','W'] (H and W multiples of 8), output 'y' [1,1,2H,2W]. */
export function detectorNet(): Uint8Array {
  const n = new OnnxNet([1, 3, 'H', 'W']);
  const c2 = convBnRelu(n, 'x', 3, LEVELS[0], 3, 2);
  const c4 = convBnRelu(n, c2, LEVELS[0], LEVELS[1], 3, 2);
  const c8 = convBnRelu(n, c4, LEVELS[1], LEVELS[2], 3, 2);
  const [in2, in4, in8] = [n.conv(c2, LEVELS[0], FPN, 1), n.conv(c4, LEVELS[1], FPN, 1), n.conv(c8, LEVELS[2], FPN, 1)];
  // Top-down: DBNet's up-sample-and-add, once in each of the two coordinate modes Paddle and PyTorch exports use.
  const p4 = n.op('Add', [in4, upsample(n, in8, 2, 'asymmetric', 'floor')]);
  const p2 = n.op('Add', [in2, upsample(n, p4, 2, 'half_pixel', 'round_prefer_floor')]);
  const [o8, o4, o2] = [in8, p4, p2].map((p) => n.conv(p, FPN, 4, 3, { pad: 1 }));
  const fused = n.op('Concat', [upsample(n, o8, 4, 'asymmetric', 'floor'), upsample(n, o4, 2, 'half_pixel', 'round_prefer_ceil'), o2], [{ name: 'axis', type: 2, i: 1 }]);
  // A global-context term, one value per channel plane added to it (a per-plane broadcast of activations).
  const context = n.op('Add', [fused, n.op('GlobalAveragePool', [fused])]);
  const shifted = n.op('Add', [context, n.weight([12, 1, 1], 0.5)]);
  const head = convBnRelu(n, shifted, 12, 8, 3);
  const up = n.op('Relu', [upConv(n, head, 8, 8)]);
  return n.bytes(n.op('Sigmoid', [upConv(n, up, 8, 1)]));
}
