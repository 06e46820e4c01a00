// Convolution as a direct sum on the CUDA cores: the depthwise path (one input channel per group gives a GEMM depth
// of kh·kw, too short for the Tensor Cores) and the runner's host reference for every convolution.
// Contract (runtime/kernels/conv2d.ts): acc = bias[m] + Σ_k (A[r, k] − zx)·(w[m, k] − zw), int32 wrapping, with the
// implicit-GEMM mapping of conv-geometry.cuh (a padded position holds zx, so it adds nothing and is skipped);
// out = requantizeA100(acc, …).
#pragma once
#include <cstddef>
#include <cstdint>
#include "conv-geometry.cuh"
#include "epilogue.cuh"

struct DirectConvProblem {
  ConvGeometry conv;
  const int8_t* x;        // NCHW input
  const int8_t* w;        // [M][depth]
  const int32_t* bias;    // [M]
  int inputZeroPoint, weightZeroPoint;
  float scale;
  int zeroPoint, outputMin, outputMax;
  int8_t* out;            // NCHW output
};

__host__ __device__ inline int32_t convAccumulator(const DirectConvProblem& p, int row, int channel) {
  const ConvGeometry& g = p.conv;
  const int group = channel / convGroupOutChannels(g);
  const int depth = convDepth(g);
  const ConvRow origin = convRow(g, row);
  const int8_t* w = p.w + static_cast<size_t>(channel) * depth;
  uint32_t acc = static_cast<uint32_t>(p.bias[channel]);
  for (int k = 0; k < depth; ++k) {
    const int index = convGatherIndex(g, group, origin, convTap(g, k));
    if (index >= 0) acc += static_cast<uint32_t>((p.x[index] - p.inputZeroPoint) * (w[k] - p.weightZeroPoint));
  }
  return static_cast<int32_t>(acc);
}

/** Output element o of the NCHW output. */
__host__ __device__ inline void directConvOutput(const DirectConvProblem& p, int o) {
  const ConvGeometry& g = p.conv;
  const int pixels = g.outHeight * g.outWidth;
  const int plane = o / pixels;
  const int n = plane / g.outChannels;
  const int channel = plane - n * g.outChannels;
  const int row = n * pixels + (o - plane * pixels);
  p.out[o] = static_cast<int8_t>(requantizeA100(convAccumulator(p, row, channel), p.scale, p.zeroPoint, p.outputMin, p.outputMax));
}

__global__ void directConvKernel(DirectConvProblem p, int outputs) {
  const int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o < outputs) directConvOutput(p, o);
}
