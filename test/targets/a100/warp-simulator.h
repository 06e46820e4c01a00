// A host simulator of the six PTX wrappers the IMMA kernel uses (targets/a100/kernels/ptx.cuh), so the kernel body
// of imma-gemm.cuh runs unchanged on the CPU: one OS thread per CUDA thread, a barrier per block (__syncthreads)
// and per warp (the warp-collective ldmatrix and mma.sync), instruction semantics written from the PTX ISA:
//   ldmatrix .x4 .b16: lanes 8j … 8j+7 give the row addresses of matrix j; lane l receives, in register j, the
//                      32-bit word l % 4 of row l / 4 of matrix j.
//   mma m16n8k32 .row.col s8: groupID g = lane / 4, t = lane % 4;
//                      A: a0 = A[g][4t … 4t+3], a1 = A[g+8][4t …], a2 = A[g][16+4t …], a3 = A[g+8][16+4t …]
//                      B: b0 = B[4t … 4t+3][g], b1 = B[16+4t …][g]
//                      C, D: c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]; int32 sums wrap.
//   cp.async: the copies of a thread's committed groups land at the latest moment the ISA allows, its wait_group,
//             so a kernel that read a stage before waiting would read stale bytes here.
// Used only by test/targets/a100/warp-simulator.cpp (compiled with -DFLEXQ_WARP_SIMULATOR).
#pragma once
#include <barrier>
#include <cstdint>
#include <cstring>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__
#define __align__(n) __attribute__((aligned(n)))

struct SimIndex {
  unsigned x = 0, y = 0, z = 0;
};
inline thread_local SimIndex threadIdx, blockIdx;
inline SimIndex blockDim;  // read only by the depthwise kernel, which the simulator never runs

struct uint4 {
  uint32_t x, y, z, w;
};
inline uint4 make_uint4(uint32_t x, uint32_t y, uint32_t z, uint32_t w) { return {x, y, z, w}; }

/** The block's dynamic shared memory (the kernel's `extern __shared__ uint8_t shared[]`). */
extern uint8_t shared[];

struct SimWarp {
  std::barrier<> barrier{32};
  uint32_t address[32];
  uint32_t a[32][4], b[32][2];
  int32_t c[32][4];
};

struct SimBlock {
  std::barrier<> barrier;
  SimWarp warps[8];
  explicit SimBlock(int threads) : barrier(threads) {}
};

inline SimBlock* simBlock = nullptr;

struct SimCopy {
  uint32_t dst;
  const void* src;
  bool valid;
};
inline thread_local std::vector<SimCopy> simOpenGroup;
inline thread_local std::vector<std::vector<SimCopy>> simCommitted;

inline SimWarp& simWarp() { return simBlock->warps[threadIdx.x / 32]; }
inline int simLane() { return threadIdx.x % 32; }

inline void __syncthreads() { simBlock->barrier.arrive_and_wait(); }

inline uint32_t sharedAddress(const void* p) { return static_cast<uint32_t>(static_cast<const uint8_t*>(p) - shared); }

inline void copyAsync16(uint32_t dst, const void* src, bool valid) { simOpenGroup.push_back({dst, src, valid}); }

inline void commitAsyncGroup() {
  simCommitted.push_back(simOpenGroup);
  simOpenGroup.clear();
}

template <int kPending>
void waitAsyncGroups() {
  while (simCommitted.size() > size_t(kPending)) {
    for (const SimCopy& c : simCommitted.front()) {
      if (c.valid) std::memcpy(shared + c.dst, c.src, 16);
      else std::memset(shared + c.dst, 0, 16);
    }
    simCommitted.erase(simCommitted.begin());
  }
}

inline void loadMatrixX4(uint32_t (&r)[4], uint32_t address) {
  SimWarp& w = simWarp();
  const int lane = simLane();
  w.address[lane] = address;
  w.barrier.arrive_and_wait();
  for (int j = 0; j < 4; ++j) std::memcpy(&r[j], shared + w.address[8 * j + lane / 4] + 4 * (lane % 4), 4);
  w.barrier.arrive_and_wait();
}

inline int8_t simByte(uint32_t word, int i) { return static_cast<int8_t>(word >> (8 * i)); }

inline void mmaS8(int32_t (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  SimWarp& w = simWarp();
  const int lane = simLane();
  std::memcpy(w.a[lane], a, sizeof a);
  w.b[lane][0] = b0;
  w.b[lane][1] = b1;
  std::memcpy(w.c[lane], d, sizeof d);
  w.barrier.arrive_and_wait();
  // A[r][k] and B[k][n] through the fragment layouts above.
  auto aAt = [&](int r, int k) { return simByte(w.a[(r % 8) * 4 + (k % 16) / 4][(r / 8) + 2 * (k / 16)], k % 4); };
  auto bAt = [&](int k, int n) { return simByte(w.b[n * 4 + (k % 16) / 4][k / 16], k % 4); };
  for (int i = 0; i < 4; ++i) {
    const int row = lane / 4 + 8 * (i / 2);
    const int col = 2 * (lane % 4) + i % 2;
    uint32_t sum = static_cast<uint32_t>(w.c[lane][i]);
    for (int k = 0; k < 32; ++k) sum += static_cast<uint32_t>(aAt(row, k) * bAt(k, col));
    d[i] = static_cast<int32_t>(sum);
  }
  w.barrier.arrive_and_wait();
}
