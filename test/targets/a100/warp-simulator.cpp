// Runs a runner job through the IMMA kernel body (targets/a100/kernels/imma-gemm.cuh) on the CPU, with the PTX
// simulated by warp-simulator.h, and with the operands the runner would upload (targets/a100/job.h).
//   warp-simulator JOB OUT     OUT = the int8 output the kernel computes (the job must take the IMMA path)
#include <thread>

#include "warp-simulator.h"
#include "job.h"

alignas(16) uint8_t shared[imma::kSharedBytes];

template <bool kConv>
void simulate(const ImmaProblem& p, int groups) {
  int grid[3];
  immaGrid(p, groups, grid);
  for (int z = 0; z < grid[2]; ++z)
    for (int y = 0; y < grid[1]; ++y)
      for (int x = 0; x < grid[0]; ++x) {
        SimBlock block(imma::kThreads);
        simBlock = &block;
        std::memset(shared, 0xA5, sizeof shared);  // garbage: nothing may be read before it is written
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < unsigned(imma::kThreads); ++t)
          threads.emplace_back([&, t] {
            threadIdx = {t, 0, 0};
            blockIdx = {unsigned(x), unsigned(y), unsigned(z)};
            simOpenGroup.clear();
            simCommitted.clear();
            immaGemmKernel<kConv>(p);
          });
        for (std::thread& t : threads) t.join();
      }
}

int main(int argc, char** argv) {
  if (argc != 3) die(2, "usage: warp-simulator JOB OUT");
  const Job j = readJob(argv[1]);
  if (usesDirectPath(j)) die(1, "a depthwise job takes the CUDA-core path, not the IMMA kernel");
  const ImmaOperands o = immaOperands(j);
  std::vector<int8_t> out(outputCount(j), 0);
  const ImmaProblem p = immaProblem(j, o.a.data(), o.b.data(), o.columnOffset.data(), o.taps.data(), out.data());
  if (o.dense) simulate<false>(p, 1);
  else simulate<true>(p, j.conv.groups);
  writeFile(argv[2], out.data(), out.size());
  return 0;
}
