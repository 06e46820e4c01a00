// The PTX instructions of the IMMA kernel (imma-gemm.cuh): cp.async, ldmatrix and mma.sync, sm_80 and later.
#pragma once
#include <cstdint>

__device__ __forceinline__ uint32_t sharedAddress(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/** 16 bytes global → shared, bypassing L1; when !valid nothing is read and the 16 bytes become zero. */
__device__ __forceinline__ void copyAsync16(uint32_t dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void commitAsyncGroup() { asm volatile("cp.async.commit_group;\n" ::); }

template <int kPending>
__device__ __forceinline__ void waitAsyncGroups() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

/** Four 8×8 b16 matrices: lanes 8j … 8j+7 give the row addresses of matrix j; register j gets its (row lane/4, word lane%4). */
__device__ __forceinline__ void loadMatrixX4(uint32_t (&r)[4], uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

/** d += A(16×32, row) · B(32×8, col), int8 in, int32 accumulate. */
__device__ __forceinline__ void mmaS8(int32_t (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
