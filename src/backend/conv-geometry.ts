import { fail } from '../errors.js';
import type { ConvParams,  } from './backend.js';
import type { FloatTensor } from '../tensor.js';

/** Every size a convolution's forward and backward graphs need, checked once. */
export interface ConvGeometry {
  readonly n: number;
  readonly cin: number;
  readonly h: number;
  readonly w: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly ho: number;
  readonly wo: number;
  readonly p: ConvParams;
}

/** The geometry of conv(x, w) with ONNX Conv semantics; fails with the shapes when they do not fit together. */
export function convGeometry(x: FloatTensor, w: FloatTensor, p: ConvParams): ConvGeometry {
  const where = `conv2d(x [${x.shape}], w [${w.shape}], group ${p.group})`;
  if (x.shape.length !== 4 || w.shape.length !== 4) fail('SHAPE', `${where}: expected a 4-D NCHW input and a 4-D OIHW weight`);
  const [n, cin, h, wd] = x.shape;
  const [cout, cig, kh, kw] = w.shape;
  if (cin % p.group !== 0 || cout % p.group !== 0 || cig * p.group !== cin)
    fail('SHAPE', `${where}: input channels ${cin} must equal weight input channels ${cig} × group ${p.group}, and output channels ${cout} must be a multiple of the group`);
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilations;
  const [pt, pl, pb, pr] = p.pads;
  const ho = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const wo = Math.floor((wd + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  if (ho < 1 || wo < 1) fail('SHAPE', `${where}: the ${kh}×${kw} kernel (dilation ${p.dilations}) does not fit the padded ${h}×${wd} input`);
  return { n, cin, h, w: wd, cout, kh, kw, ho, wo, p };
}

/** A stable text key for caching per (op, shapes, params). */
export function convKey(g: ConvGeometry): string {
  return `${g.n},${g.cin},${g.h},${g.w}|${g.cout},${g.kh},${g.kw}|s${g.p.strides}|p${g.p.pads}|d${g.p.dilations}|g${g.p.group}`;
}

/** One input and one output channel per group: the weight gradient of such a conv has its own formulations. */
export const isDepthwise = (g: ConvGeometry): boolean => g.p.group === g.cin && g.cout === g.cin;
