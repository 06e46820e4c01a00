// int8 × int8 → int32 GEMM on the Tensor Cores (mma.sync m16n8k32 s8·s8 → s32, sm_80 and later) with the a100
// requantization epilogue; dense rows (fully connected) or convolution rows gathered on the fly (implicit GEMM).
// Contract, per group g (grid z), GEMM row r < rows and column m < cols (channel = g·cols + m):
//   acc = columnOffset[channel] + Σ_k A[r, k] · B[channel, k]        int32, wrapping (mma without .satfinite wraps)
//   out = requantizeA100(acc, scale, zero point, min, max)
// A holds raw int8 inputs (padding reads as the input zero point), so the host folds the zero point into the column
// offset: columnOffset = bias − zx · Σ_k B[channel, k] (weights have zero point 0), which gives Σ (x − zx)·w mod 2^32.
// Tiling: a block computes 128 × 128 outputs through K tiles of 64 bytes, three shared-memory stages filled by
// cp.async (16-byte chunks; chunks past the matrix are zero-filled by a source size of 0); eight warps of 64 × 32
// each, fragments loaded with ldmatrix. Shared rows are 80 bytes apart so the eight rows an ldmatrix phase reads
// fall in distinct banks (r·80 mod 128 visits every 16-byte slot once for r = 0..7).
// Convolution rows cannot use cp.async (bytes are scattered), so each thread gathers its 32 bytes of the next A tile
// into registers before the MMAs of the current tile and stores them after, hiding the global-load latency.
#pragma once
#include <cstdint>
#include "conv-geometry.cuh"
#include "epilogue.cuh"
// The PTX the kernel issues, behind six small functions; the host warp simulator (test/targets/a100/warp-simulator.h)
// supplies its own versions of the same six to run this kernel body on the CPU.
#ifdef FLEXQ_WARP_SIMULATOR
#include "warp-simulator.h"
#else
#include "ptx.cuh"
#endif

namespace imma {
constexpr int kTileRows = 128;
constexpr int kTileCols = 128;
constexpr int kTileDepth = 64;
constexpr int kStages = 3;
constexpr int kThreads = 256;
constexpr int kRowBytes = kTileDepth + 16;
constexpr int kStageBytes = (kTileRows + kTileCols) * kRowBytes;
constexpr int kSharedBytes = kStages * kStageBytes;
/** A tap that never lies inside the input: depth indices past the end read it (their weights are zero). */
constexpr int kOutsideTap = 1 << 29;
}  // namespace imma

struct ImmaProblem {
  int rows, cols, depth;
  int depthStride;               // bytes between rows of B (and of dense A): depth rounded up to 16
  const int8_t* a;               // dense: [rows][depthStride]; convolution: the NCHW input
  const int8_t* b;               // [groups · cols][depthStride], zero past depth
  const int32_t* columnOffset;   // [groups · cols]
  float scale;
  int zeroPoint, outputMin, outputMax;
  int8_t* out;                   // dense: [rows][cols]; convolution: NCHW
  ConvGeometry conv;             // convolution only
  const ConvTap* taps;           // convolution only: convTap(k) for k < tiles · 64, kOutsideTap past depth
  int inputZeroPoint;            // convolution only
};

/** One 128 × 64 tile of a [count][depthStride] matrix into shared memory: two 16-byte chunks per thread. */
__device__ __forceinline__ void copyTileAsync(uint8_t* stage, const int8_t* matrix, int first, int count, int depthStride, int k0) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int chunk = threadIdx.x + i * imma::kThreads;
    const int r = chunk >> 2;
    const int c = (chunk & 3) * 16;
    const bool valid = first + r < count && k0 + c < depthStride;
    const int8_t* src = valid ? matrix + static_cast<size_t>(first + r) * depthStride + k0 + c : matrix;
    copyAsync16(sharedAddress(stage + r * imma::kRowBytes + c), src, valid);
  }
}

/** The 32 bytes of convolution row `row` (or zeros past the last row) at depth k0 + half … + 31, four per register. */
__device__ __forceinline__ void gatherConvRow(const ImmaProblem& p, int group, const ConvRow& origin, bool rowValid, int k,
                                              uint32_t (&bytes)[8]) {
#pragma unroll
  for (int w = 0; w < 8; ++w) {
    uint32_t word = 0;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int index = convGatherIndex(p.conv, group, origin, p.taps[k + w * 4 + j]);
      const int v = !rowValid ? 0 : index < 0 ? p.inputZeroPoint : p.a[index];
      word |= static_cast<uint32_t>(v & 0xff) << (8 * j);
    }
    bytes[w] = word;
  }
}

template <bool kConv>
__global__ void __launch_bounds__(imma::kThreads, 2) immaGemmKernel(ImmaProblem p) {
  extern __shared__ __align__(16) uint8_t shared[];
  const int group = blockIdx.z;
  const int rowBase = blockIdx.y * imma::kTileRows;
  const int colBase = blockIdx.x * imma::kTileCols;
  const int8_t* b = p.b + static_cast<size_t>(group) * p.cols * p.depthStride;
  const int warp = threadIdx.x >> 5;
  const int lane = threadIdx.x & 31;
  const int warpRow = (warp >> 2) * 64;
  const int warpCol = (warp & 3) * 32;
  const int tiles = (p.depth + imma::kTileDepth - 1) / imma::kTileDepth;

  // Convolution: each thread owns row tid/2 of every A tile, bytes (tid%2)·32 … +31.
  const int gatherRow = threadIdx.x >> 1;
  const int gatherHalf = (threadIdx.x & 1) * 32;
  const bool gatherValid = rowBase + gatherRow < p.rows;
  ConvRow origin{};
  if (kConv) origin = convRow(p.conv, gatherValid ? rowBase + gatherRow : 0);
  uint32_t gathered[8] = {};

  auto stageA = [&](int s) { return shared + s * imma::kStageBytes; };
  auto stageB = [&](int s) { return shared + s * imma::kStageBytes + imma::kTileRows * imma::kRowBytes; };
  auto storeGathered = [&](int s) {
    uint4* dst = reinterpret_cast<uint4*>(stageA(s) + gatherRow * imma::kRowBytes + gatherHalf);
    dst[0] = make_uint4(gathered[0], gathered[1], gathered[2], gathered[3]);
    dst[1] = make_uint4(gathered[4], gathered[5], gathered[6], gathered[7]);
  };
  // Starts loading tile t into stage s (for a convolution the A part waits in registers until storeGathered).
  auto loadTile = [&](int t, int s) {
    const int k0 = t * imma::kTileDepth;
    copyTileAsync(stageB(s), b, colBase, p.cols, p.depthStride, k0);
    if (kConv) gatherConvRow(p, group, origin, gatherValid, k0 + gatherHalf, gathered);
    else copyTileAsync(stageA(s), p.a, rowBase, p.rows, p.depthStride, k0);
  };

  for (int s = 0; s < imma::kStages - 1; ++s) {
    if (s < tiles) {
      loadTile(s, s);
      if (kConv) storeGathered(s);
    }
    commitAsyncGroup();
  }

  int32_t acc[4][4][4] = {};
  for (int t = 0; t < tiles; ++t) {
    waitAsyncGroups<imma::kStages - 2>();
    __syncthreads();  // tile t is in shared memory, and every warp is done with the stage refilled below
    const int next = t + imma::kStages - 1;
    if (next < tiles) loadTile(next, next % imma::kStages);
    commitAsyncGroup();

    const uint8_t* a = stageA(t % imma::kStages);
    const uint8_t* bt = stageB(t % imma::kStages);
#pragma unroll
    for (int ks = 0; ks < imma::kTileDepth; ks += 32) {
      uint32_t af[4][4];
      uint32_t bf[2][4];
#pragma unroll
      for (int mt = 0; mt < 4; ++mt)  // matrices: rows 0-7 / 8-15 × bytes 0-15 / 16-31 → a0 a1 a2 a3
        loadMatrixX4(af[mt], sharedAddress(a + (warpRow + mt * 16 + (lane & 15)) * imma::kRowBytes + ks + (lane >> 4) * 16));
#pragma unroll
      for (int np = 0; np < 2; ++np)  // matrices: (columns 0-7, bytes 0-15 / 16-31), (columns 8-15, …) → b0 b1 of two n-tiles
        loadMatrixX4(bf[np], sharedAddress(bt + (warpCol + np * 16 + (lane >> 4) * 8 + (lane & 7)) * imma::kRowBytes + ks +
                                           ((lane >> 3) & 1) * 16));
#pragma unroll
      for (int mt = 0; mt < 4; ++mt)
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) mmaS8(acc[mt][nt], af[mt], bf[nt >> 1][(nt & 1) * 2], bf[nt >> 1][(nt & 1) * 2 + 1]);
    }
    if (kConv && next < tiles) storeGathered(next % imma::kStages);
  }

  // Accumulator fragment: d0 d1 at (row lane/4, columns 2·(lane%4) + 0, 1), d2 d3 eight rows below.
#pragma unroll
  for (int mt = 0; mt < 4; ++mt)
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int row = rowBase + warpRow + mt * 16 + (lane >> 2) + (i >> 1) * 8;
        const int col = colBase + warpCol + nt * 8 + (lane & 3) * 2 + (i & 1);
        if (row >= p.rows || col >= p.cols) continue;
        const int channel = group * p.cols + col;
        const int32_t sum = static_cast<int32_t>(static_cast<uint32_t>(acc[mt][nt][i]) + static_cast<uint32_t>(p.columnOffset[channel]));
        const int8_t y = static_cast<int8_t>(requantizeA100(sum, p.scale, p.zeroPoint, p.outputMin, p.outputMax));
        p.out[kConv ? convOutputIndex(p.conv, row, channel) : row * p.cols + col] = y;
      }
}
