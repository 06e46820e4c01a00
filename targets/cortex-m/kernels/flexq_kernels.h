/* SPDX-License-Identifier: Apache-2.0 */
/* flexq's int8 kernels for the generated model: NCHW tensors of one sample, TFLite-Micro reference arithmetic
 * (requantization: SaturatingRoundingDoublingHighMul + RoundingDivideByPOT, or the builds of flexq_requant.h). Every parameter is
 * precomputed by flexq's code generator (Prepare); the kernels run blind (Eval). Plain C99, no heap. */
#ifndef FLEXQ_KERNELS_H
#define FLEXQ_KERNELS_H

#include <stdint.h>
#include "flexq_names.h"

/* acc → clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + zero_point, min, max). */
typedef struct {
  int32_t multiplier; /* Q31, 0 or in [2^30, 2^31) */
  int32_t shift;      /* -31..30: real multiplier = multiplier · 2^(shift − 31) */
  int32_t zero_point;
  int32_t min;
  int32_t max;
} flexq_requant;

/* 1 (a library exported with --rounding xnnpack): the weighted layers (conv, depthwise, transposed conv, fully
 * connected) and Mul requantize as XNNPACK does, in float32 (flexq_requant.h); the code generator calls that
 * build's own softmax and bilinear resize kernels; every other op keeps TFLite's single-rounding fixed point. */
#ifndef FLEXQ_FP32_REQUANT
#define FLEXQ_FP32_REQUANT 0
#endif

/* Per-output-channel requantization of the conv and fully-connected kernels: channel m uses multiplier[m] and
 * shift[m] (as in flexq_requant), or in the fp32 build scale[m], with one zero point and clamp range for the tensor
 * (per-channel weights, as the TFLite converter makes them). Per-tensor models repeat one value M times. */
typedef struct {
#if FLEXQ_FP32_REQUANT
  const float *scale; /* [M], fp32(fp32(s_in · s_w[m]) / s_out) */
#else
  const int32_t *multiplier; /* [M], Q31 in [0, 2^31) */
  const int32_t *shift;      /* [M], -31..30 */
#endif
  int32_t zero_point;
  int32_t min;
  int32_t max;
} flexq_channel_requant;

/* 2-D window of a convolution or pool over [C, H, W]; output [M, out_h, out_w]. */
typedef struct {
  int32_t in_c, in_h, in_w;
  int32_t out_c, out_h, out_w;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left;
} flexq_window;

/* Conv with `groups` groups, for the reference kernel: weights [M][C/groups][kh][kw]. */
typedef struct {
  flexq_window window;
  int32_t groups;
  int32_t input_offset; /* −zero point of the input */
  const int8_t *weights;
  const int32_t *bias;  /* one per output channel, at scale s_in · s_w[m] */
  flexq_channel_requant requant;
} flexq_conv_params;

/* Conv for the DSP kernels: the input's zero point is folded into the bias (bias[m] = b[m] − z_in · Σ w[m]), so the
 * kernels multiply raw int8 inputs, and a tap in the padding takes the value pad_value = z_in (it then adds 0). */
typedef struct {
  flexq_window window;
  int32_t pad_value;
  const int8_t *weights; /* layout in each kernel's file */
  const int32_t *bias;   /* [M], zero point folded in */
  flexq_channel_requant requant;
  int32_t int8_weights;  /* one-group conv: 1 when the GEMM's weights are int8 (gemm_dsp.h), 0 for int16; depthwise: 0 */
} flexq_conv_dsp_params;

/* Fully connected for the DSP kernel: y[m] = requant(bias[m] + Σ_k x[k] · w[m][k]), the input's zero point folded
 * into bias as in flexq_conv_dsp_params. */
typedef struct {
  int32_t depth, units;
  const int8_t *weights;
  const int32_t *bias;
  flexq_channel_requant requant;
  int32_t int8_weights; /* 1 when the GEMM's weights are int8 (gemm_dsp.h), 0 for int16 */
} flexq_fully_connected_dsp_params;

/* Fully connected: y[m] = requant(bias[m] + Σ_k (x[k] + input_offset) · w[m][k]). */
typedef struct {
  int32_t depth, units;
  int32_t input_offset;
  const int8_t *weights;
  const int32_t *bias;
  flexq_channel_requant requant;
} flexq_fully_connected_params;

/* TFLite's int8 ADD (reference_integer_ops::AddFunc), both operands of `size` elements. */
typedef struct {
  int32_t size;
  int32_t left_shift;
  int32_t a_offset, a_multiplier, a_shift;
  int32_t b_offset, b_multiplier, b_shift;
  flexq_requant requant;
} flexq_add_params;

/* Add with each operand's rescale tabulated: y = requant(a_table[a] + b_table[b]), tables indexed by int8 + 128. */
typedef struct {
  int32_t size;
  const int32_t *a_table; /* [256] */
  const int32_t *b_table; /* [256] */
  flexq_requant requant;
} flexq_add_table_params;

/* A DSP conv whose output only a table Add with `residual` reads, run as one step:
 * y = requant(conv_table[conv] + residual_table[residual]), the Add's two tables put in this order (the sum commutes). */
typedef struct {
  flexq_conv_dsp_params conv;
  const int32_t *conv_table;     /* [256] */
  const int32_t *residual_table; /* [256] */
  flexq_requant requant;
} flexq_conv_add_dsp_params;

typedef struct {
  flexq_window window;
  int32_t pad_bottom, pad_right;
  int32_t count_include_pad;
  int32_t zero_point;
} flexq_pool_params;

typedef struct {
  int32_t channels, plane_size;
  int32_t input_zero_point;
  flexq_requant requant;
} flexq_global_average_pool_params;

/* XNNPACK's qs8 mean over each plane, in float32: y = clamp(rne(fp32(fp32(fp32(Σ x) · scale) + bias)), min, max),
 * Σ x the plane's raw int8 sum, bias = fp32(z_out − fp32(fp32(z_in · plane_size) · scale)). */
typedef struct {
  int32_t channels, plane_size;
  float scale, bias;
  int32_t min, max;
} flexq_mean_fp32_params;

/* Integer softmax: the input difference to the slice's maximum times s_in is
 * SRDHM(d · 2^input_left_shift, input_multiplier) in Q5.26; differences below diff_min are skipped. The output is the
 * unit grid of output_bits bits: scale 2^−output_bits, zero point output_min. */
typedef struct {
  int32_t outer, length, inner;
  int32_t input_multiplier; /* Q31 */
  int32_t input_left_shift; /* 0..31 */
  int32_t diff_min;         /* ≤ 0 */
  int32_t output_bits;
  int32_t output_zero_point, output_min, output_max;
} flexq_softmax_params;

/* Softmax in double (flexq_softmax_s8_float, the fp32 build's): on the input's and output's grids as they are. */
typedef struct {
  int32_t outer, length, inner;
  float input_scale;
  int32_t input_zero_point;
  float output_scale;
  int32_t output_zero_point, output_min, output_max;
} flexq_softmax_float_params;

/* Element-wise binary op with numpy broadcasting over the 4-D output [d0][d1][d2][d3] (a sample's shape, ones in
 * front): operand element (i0, i1, i2, i3) sits at Σ ik · stride[k], stride 0 on a broadcast axis. */
typedef struct {
  int32_t shape[4];
  int32_t a_strides[4];
  int32_t b_strides[4];
} flexq_broadcast;

/* A Mul's requantization of the product: the build's flexq_requant with the multiplier of s_a · s_b / s_y. In the fp32
 * build the code generator picks the rule the runtime's tflite-xnnpack MUL runs: XNNPACK's fp32 qs8 multiply where
 * its delegate takes the Mul (scale = fp32(fp32(s_a · s_b) / s_y) > 0: y = clamp(rne(fp32(fp32(acc) · scale)) +
 * zero_point), with fixed's zero point and range), else TFLite's own MUL (scale 0: fixed, double rounding). */
#if FLEXQ_FP32_REQUANT
typedef struct {
  float scale;
  flexq_requant fixed;
} flexq_mul_requant;
#else
typedef flexq_requant flexq_mul_requant;
#endif

/* TFLite's int8 MUL: y = requant((a − a_zero_point) · (b − b_zero_point)). */
typedef struct {
  flexq_broadcast broadcast;
  int32_t a_zero_point, b_zero_point;
  flexq_mul_requant requant;
} flexq_mul_params;

/* flexq_add_table_params's Add with numpy broadcasting (a per-channel or per-plane operand): y = requant(a_table[a] + b_table[b]). */
typedef struct {
  flexq_broadcast broadcast;
  const int32_t *a_table; /* [256] */
  const int32_t *b_table; /* [256] */
  flexq_requant requant;
} flexq_add_broadcast_params;

/* flexq_mul_params's Mul where one operand (gate) holds one value per plane of the other (x): `planes` planes of
 * plane_size elements. */
typedef struct {
  int32_t planes, plane_size;
  int32_t x_zero_point, gate_zero_point;
  flexq_mul_requant requant;
} flexq_mul_per_plane_params;

/* Bilinear resize over H and W of [C, in_h, in_w]: for output row oy the source rows row_lower[oy], row_upper[oy] with
 * the upper's weight row_weight[oy] (columns alike), in 1024ths for TFLite's ResizeBilinearInteger
 * (flexq_resize_bilinear_s8), in 2048ths for XNNPACK's s8 resize (flexq_resize_bilinear_s8_xnnpack). */
typedef struct {
  int32_t channels, in_h, in_w, out_h, out_w;
  const int16_t *row_lower, *row_upper, *row_weight; /* [out_h] */
  const int16_t *col_lower, *col_upper, *col_weight; /* [out_w] */
} flexq_resize_bilinear_params;

/* Nearest resize over H and W of [C, in_h, in_w]: output (oy, ox) copies input (rows[oy], cols[ox]). */
typedef struct {
  int32_t channels, in_h, in_w, out_h, out_w;
  const int16_t *rows; /* [out_h] */
  const int16_t *cols; /* [out_w] */
} flexq_resize_nearest_params;

/* Transposed conv of [C, in_h, in_w] by weights [C][M][kh][kw] (zero point 0) into [M, out_h, out_w]: input pixel
 * (iy, ix) through tap (ky, kx) adds to output (iy·stride − pad + k·dilation) on each axis (window.pad_top/left crop). */
typedef struct {
  flexq_window window;
  int32_t input_offset; /* −zero point of the input */
  const int8_t *weights;
  const int32_t *bias;  /* [M], at scale s_in · s_w */
  flexq_channel_requant requant; /* one weight scale: M equal channels */
} flexq_conv_transpose_params;

/* Data movement of one grid, up to 4-D (ones in front). Transpose: output element (i0..i3) of `shape` reads input
 * Σ ik · in_strides[k]. Pad: the output [shape + before + after] holds `fill` in the border and the input inside. */
typedef struct {
  int32_t shape[4];
  int32_t in_strides[4];
} flexq_transpose_params;

typedef struct {
  int32_t in_shape[4];
  int32_t before[4];
  int32_t out_shape[4];
  int32_t fill;
} flexq_pad_params;

/* Concat of `count` inputs: per outer step, input i gives chunk[i] values, copied, or through its 256-entry table at
 * tables + table_offset[i] (indexed by int8 + 128) when it is on another grid than the output. */
typedef struct {
  int32_t count, outer;
  const int32_t *chunk;        /* [count] */
  const int32_t *table_offset; /* [count]: −1 for a copied input */
  const int8_t *tables;
} flexq_concat_params;

void flexq_conv_s8(const flexq_conv_params *p, const int8_t *input, int8_t *output);
void flexq_fully_connected_s8(const flexq_fully_connected_params *p, const int8_t *input, int8_t *output);
void flexq_add_s8(const flexq_add_params *p, const int8_t *a, const int8_t *b, int8_t *output);
void flexq_max_pool_s8(const flexq_pool_params *p, const int8_t *input, int8_t *output);
void flexq_average_pool_s8(const flexq_pool_params *p, const int8_t *input, int8_t *output);
void flexq_global_average_pool_s8(const flexq_global_average_pool_params *p, const int8_t *input, int8_t *output);
void flexq_mean_s8_fp32(const flexq_mean_fp32_params *p, const int8_t *input, int8_t *output);
void flexq_lookup_s8(const int8_t table[256], int32_t size, const int8_t *input, int8_t *output);
void flexq_softmax_s8(const flexq_softmax_params *p, const int8_t *input, int8_t *output);
void flexq_softmax_s8_float(const flexq_softmax_float_params *p, const int8_t *input, int8_t *output);
void flexq_mul_s8(const flexq_mul_params *p, const int8_t *a, const int8_t *b, int8_t *output);
void flexq_resize_bilinear_s8(const flexq_resize_bilinear_params *p, const int8_t *input, int8_t *output);
void flexq_resize_bilinear_s8_xnnpack(const flexq_resize_bilinear_params *p, const int8_t *input, int8_t *output);
void flexq_resize_nearest_s8(const flexq_resize_nearest_params *p, const int8_t *input, int8_t *output);
void flexq_conv_transpose_s8(const flexq_conv_transpose_params *p, const int8_t *input, int8_t *output);
void flexq_transpose_s8(const flexq_transpose_params *p, const int8_t *input, int8_t *output);
void flexq_pad_s8(const flexq_pad_params *p, const int8_t *input, int8_t *output);
void flexq_concat_s8(const flexq_concat_params *p, const int8_t *const *inputs, int8_t *output);

/* Cortex-M DSP-extension kernels (SMLAD on pairs of 16-bit values; the GEMM's inner loop on Helium/MVE where the core
 * has it, flexq_dsp.h), bit-exact to the reference ones above.
 * Their weights are laid out for the dual multiply-accumulate and their scratch sizes are given in each file;
 * flexq's code generator lays them out and places `scratch` in the arena. */
void flexq_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch);
void flexq_depthwise_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch);
void flexq_fully_connected_s8_dsp(const flexq_fully_connected_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch);
void flexq_conv_add_s8_dsp(const flexq_conv_add_dsp_params *p, const int8_t *input, const int8_t *residual, int8_t *output, int16_t *scratch);

/* Optimized kernels in portable C, bit-exact to the reference ones. */
void flexq_add_s8_table(const flexq_add_table_params *p, const int8_t *a, const int8_t *b, int8_t *output);
void flexq_add_s8_broadcast(const flexq_add_broadcast_params *p, const int8_t *a, const int8_t *b, int8_t *output);
void flexq_mul_s8_per_plane(const flexq_mul_per_plane_params *p, const int8_t *x, const int8_t *gate, int8_t *output);

#endif
