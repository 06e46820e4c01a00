// ∂L/∂w of a depthwise convolution on the host, in WebAssembly SIMD (wasm/depthwise-weight-gradient.c): the ort-cpu
// backend's unit step hands it ∂L/∂y instead of running onnxruntime's formulation, a grouped Conv with ∂L/∂y as
// N·C kernels of Ho×Wo that expands every image plane kh·kw times in memory. The kernel alone, one thread, fastest of
// 6 on 32 images: DS-CNN's 64-channel 3×3 layer at 25×5 3.3 → 1.3 ms, MobileNetV2's 576 channels at 14×14 39 → 11 ms
// (copies in included); where the whole step gains is hostDepthwiseOps' rule.
import type { ConvGeometry } from './conv-geometry.js';
import { DEPTHWISE_WEIGHT_GRADIENT_WASM } from './wasm/depthwise-weight-gradient.wasm.js';

type Kernel = (x: number, dy: number, dw: number, planes: number, channels: number, h: number, w: number, ho: number, wo: number, kh: number, kw: number, sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number) => void;

const PAGE = 65536;
const compiled = new WebAssembly.Module(Buffer.from(DEPTHWISE_WEIGHT_GRADIENT_WASM, 'base64'));

/** Where one conv's operands sit in the module's memory (offsets in floats). */
interface Region {
  readonly x: number;
  readonly dy: number;
  readonly g: ConvGeometry;
}

/**
 * The kernel with its own memory, grown to the largest operands seen and kept (one per backend, freed with it). The
 * operands are written straight into that memory: onnxruntime fetches ∂L/∂y (and an input made inside the unit)
 * into the views `operands` hands out, so a 51 MB ∂L/∂y (MobileNetV2 at 112×112) is not copied twice more.
 */
export class DepthwiseWeightGradient {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly kernel: Kernel;
  private regions: Region[] = [];
  private out = 0;

  constructor() {
    const table = new WebAssembly.Table({ initial: 0, element: 'anyfunc' });
    const instance = new WebAssembly.Instance(compiled, { env: { __linear_memory: this.memory, __indirect_function_table: table } });
    this.kernel = instance.exports.depthwise_weight_gradient as Kernel;
  }

  /** Views for x [N, C, H, W] and ∂L/∂y [N, C, Ho, Wo] of each depthwise conv, valid until the next call. */
  operands(geometries: readonly ConvGeometry[]): { x: Float32Array; dy: Float32Array }[] {
    let end = 0;
    this.regions = geometries.map((g) => {
      const x = end;
      const dy = x + g.n * g.cin * g.h * g.w;
      end = dy + g.n * g.cout * g.ho * g.wo;
      return { x, dy, g };
    });
    this.out = end;
    end += Math.max(0, ...geometries.map((g) => g.cout * g.kh * g.kw));
    const bytes = end * 4;
    if (bytes > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((bytes - this.memory.buffer.byteLength) / PAGE));
    const heap = new Float32Array(this.memory.buffer);
    return this.regions.map(({ x, dy, g }) => ({ x: heap.subarray(x, dy), dy: heap.subarray(dy, dy + g.n * g.cout * g.ho * g.wo) }));
  }

  /** dw [C, 1, kh, kw] of conv k from the operands written into the views of the last `operands` call. */
  compute(k: number): Float32Array {
    const { x, dy, g } = this.regions[k];
    const [sh, sw] = g.p.strides;
    const [dh, dw] = g.p.dilations;
    const [pt, pl] = g.p.pads;
    this.kernel(x * 4, dy * 4, this.out * 4, g.n * g.cin, g.cin, g.h, g.w, g.ho, g.wo, g.kh, g.kw, sh, sw, dh, dw, pt, pl);
    return new Float32Array(this.memory.buffer).slice(this.out, this.out + g.cout * g.kh * g.kw);
  }
}
