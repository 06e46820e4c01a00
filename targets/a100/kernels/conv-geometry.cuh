// Convolution as implicit GEMM: the index mapping the kernels and the host reference share (runtime/kernels/conv2d.ts
// computes the same sum).
// Per group g, with x NCHW int8 and w [M][C/groups][kh][kw]:
//   GEMM row    r = (n, oy, ox)                 rows  = N · OH · OW
//   GEMM column m = output channel in group g   cols  = M / groups
//   GEMM depth  k = (c, ky, kx)                 depth = C/groups · kh · kw, the weights' own row order
//   A[r, k] = x[n, g·C/groups + c, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw], the input zero point where that is padding
//   B[k, m] = w[g·M/groups + m][k]
// A row's origin and a tap's offset are split so the kernel decodes each row once and reads taps from a table the
// host fills with convTap; convInputIndex joins them exactly as the kernel does.
#pragma once
#include <cstdint>

struct ConvGeometry {
  int batch, channels, height, width;
  int outChannels, outHeight, outWidth;
  int kernelH, kernelW, strideH, strideW, padTop, padLeft, dilationH, dilationW;
  int groups;
};

/** Where GEMM row r starts in the input: the sample's first element and the window's top-left corner. */
struct ConvRow {
  int sampleOffset;  // n · C · H · W
  int originY;       // oy · sh − pt
  int originX;       // ox · sw − pl
};

/** Depth index k within a group: its offset from the row origin and its displacement inside the window. */
struct ConvTap {
  int offset;  // c · H · W + ky · dh · W + kx · dw
  int dy;      // ky · dh
  int dx;      // kx · dw
};

__host__ __device__ inline int convGemmRows(const ConvGeometry& g) { return g.batch * g.outHeight * g.outWidth; }
__host__ __device__ inline int convGroupChannels(const ConvGeometry& g) { return g.channels / g.groups; }
__host__ __device__ inline int convGroupOutChannels(const ConvGeometry& g) { return g.outChannels / g.groups; }
__host__ __device__ inline int convDepth(const ConvGeometry& g) { return convGroupChannels(g) * g.kernelH * g.kernelW; }

/** v = quotient · d + remainder, 0 ≤ remainder < d. */
struct Split {
  int quotient, remainder;
};
__host__ __device__ inline Split split(int v, int d) { return {v / d, v - (v / d) * d}; }

__host__ __device__ inline ConvRow convRow(const ConvGeometry& g, int row) {
  const Split sample = split(row, g.outHeight * g.outWidth);  // (n, pixel)
  const Split pixel = split(sample.remainder, g.outWidth);      // (oy, ox)
  return {sample.quotient * g.channels * g.height * g.width, pixel.quotient * g.strideH - g.padTop, pixel.remainder * g.strideW - g.padLeft};
}

__host__ __device__ inline ConvTap convTap(const ConvGeometry& g, int k) {
  const Split channel = split(k, g.kernelH * g.kernelW);  // (c, tap)
  const Split tap = split(channel.remainder, g.kernelW);   // (ky, kx)
  const int dy = tap.quotient * g.dilationH;
  const int dx = tap.remainder * g.dilationW;
  return {channel.quotient * g.height * g.width + dy * g.width + dx, dy, dx};
}

/** The input index of A[row, k] in group `group`, or −1 where the window lies on padding. */
__host__ __device__ inline int convGatherIndex(const ConvGeometry& g, int group, const ConvRow& r, const ConvTap& t) {
  const int y = r.originY + t.dy;
  const int x = r.originX + t.dx;
  if (y < 0 || y >= g.height || x < 0 || x >= g.width) return -1;
  return r.sampleOffset + group * convGroupChannels(g) * g.height * g.width + r.originY * g.width + r.originX + t.offset;
}

__host__ __device__ inline int convInputIndex(const ConvGeometry& g, int group, int row, int k) {
  return convGatherIndex(g, group, convRow(g, row), convTap(g, k));
}

/** The output index of GEMM row `row`, output channel `channel` (NCHW). */
__host__ __device__ inline int convOutputIndex(const ConvGeometry& g, int row, int channel) {
  const Split sample = split(row, g.outHeight * g.outWidth);
  return (sample.quotient * g.outChannels + channel) * g.outHeight * g.outWidth + sample.remainder;
}
