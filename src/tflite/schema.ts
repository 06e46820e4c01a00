// The subset of TFLite's flatbuffer schema (tensorflow/compiler/mlir/lite/schema/schema.fbs) that flexq reads
// (src/import/tflite) and writes (src/export/tflite): enums and field ids, one table for both directions.

export const TFLITE_FILE_IDENTIFIER = 'TFL3';
/** The schema version TFLite writers put in Model.version. */
export const TFLITE_SCHEMA_VERSION = 3;

/** enum TensorType : byte (the members flexq handles). */
export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  INT8: 9,
} as const;

/** enum BuiltinOperator : int32 (the members flexq handles). */
export const BuiltinOperator = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RELU_N1_TO_1: 20,
  RELU6: 21,
  RESHAPE: 22,
  RESIZE_BILINEAR: 23,
  SOFTMAX: 25,
  CUSTOM: 32,
  PAD: 34,
  GATHER: 36,
  TRANSPOSE: 39,
  MEAN: 40,
  SUB: 41,
  CAST: 53,
  TRANSPOSE_CONV: 67,
  RESIZE_NEAREST_NEIGHBOR: 97,
  QUANTIZE: 114,
  HARD_SWISH: 117,
  /** Codes above this live only in OperatorCode.builtin_code; deprecated_builtin_code holds this value. */
  PLACEHOLDER_FOR_GREATER_OP_CODES: 127,
} as const;

function enumName(members: Readonly<Record<string, number>>, value: number, unknown: string): string {
  return Object.entries(members).find(([, v]) => v === value)?.[0] ?? unknown;
}

/** The schema's name of an operator code for messages; codes outside flexq's subset read "builtin operator 43". */
export function builtinOperatorName(code: number): string {
  return enumName(BuiltinOperator, code, `builtin operator ${code}`);
}

export function tensorTypeName(type: number): string {
  return enumName(TensorType, type, `tensor type ${type}`);
}

/** union BuiltinOptions: the type tag stored in Operator.builtin_options_type (the members flexq handles). */
export const BuiltinOptionsType = {
  NONE: 0,
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ResizeBilinearOptions: 15,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ReshapeOptions: 17,
  MulOptions: 21,
  PadOptions: 22,
  GatherOptions: 23,
  TransposeOptions: 26,
  ReducerOptions: 27,
  SubOptions: 28,
  CastOptions: 37,
  DequantizeOptions: 38,
  TransposeConvOptions: 49,
  ResizeNearestNeighborOptions: 74,
  QuantizeOptions: 89,
  HardSwishOptions: 91,
} as const;

export const Padding = { SAME: 0, VALID: 1 } as const;

export const ActivationFunctionType = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;

/**
 * Field ids of each table, in schema.fbs declaration order (a union takes two ids: its type tag, then
 * the value). Field id i is found at vtable offset 4 + 2·i.
 */
export const FIELD = {
  Model: { version: 0, operator_codes: 1, subgraphs: 2, description: 3, buffers: 4, metadata_buffer: 5, metadata: 6, signature_defs: 7 },
  OperatorCode: { deprecated_builtin_code: 0, custom_code: 1, version: 2, builtin_code: 3 },
  SubGraph: { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 },
  Tensor: { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, is_variable: 5, sparsity: 6, shape_signature: 7, has_rank: 8 },
  QuantizationParameters: { min: 0, max: 1, scale: 2, zero_point: 3, details_type: 4, details: 5, quantized_dimension: 6 },
  Buffer: { data: 0, offset: 1, size: 2 },
  Metadata: { name: 0, buffer: 1 },
  Operator: { opcode_index: 0, inputs: 1, outputs: 2, builtin_options_type: 3, builtin_options: 4, custom_options: 5 },
  Conv2DOptions: { padding: 0, stride_w: 1, stride_h: 2, fused_activation_function: 3, dilation_w_factor: 4, dilation_h_factor: 5 },
  DepthwiseConv2DOptions: {
    padding: 0, stride_w: 1, stride_h: 2, depth_multiplier: 3, fused_activation_function: 4, dilation_w_factor: 5, dilation_h_factor: 6,
  },
  Pool2DOptions: { padding: 0, stride_w: 1, stride_h: 2, filter_width: 3, filter_height: 4, fused_activation_function: 5 },
  FullyConnectedOptions: { fused_activation_function: 0, weights_format: 1, keep_num_dims: 2, asymmetric_quantize_inputs: 3 },
  SoftmaxOptions: { beta: 0 },
  ConcatenationOptions: { axis: 0, fused_activation_function: 1 },
  AddOptions: { fused_activation_function: 0, pot_scale_int16: 1 },
  SubOptions: { fused_activation_function: 0, pot_scale_int16: 1 },
  MulOptions: { fused_activation_function: 0 },
  ReshapeOptions: { new_shape: 0 },
  ReducerOptions: { keep_dims: 0 },
  ResizeBilinearOptions: { new_height: 0, new_width: 1, align_corners: 2, half_pixel_centers: 3 },
  ResizeNearestNeighborOptions: { align_corners: 0, half_pixel_centers: 1 },
  TransposeConvOptions: { padding: 0, stride_w: 1, stride_h: 2, fused_activation_function: 3 },
  GatherOptions: { axis: 0, batch_dims: 1 },
  CastOptions: { in_data_type: 0, out_data_type: 1 },
} as const;

/** Vtable offset of field id `id`: the vtable starts with its own size and the table size (two uint16). */
export function vtableOffset(id: number): number {
  return 4 + 2 * id;
}
