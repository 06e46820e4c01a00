// flexq's a100 runner: runs one int8 convolution / fully-connected layer (a "job") on the GPU through the IMMA kernel,
// or on the host through the reference of the same integer contract; also a device query, the epilogue alone (for
// the emulation test) and a GEMM timer (for the benchmark). targets/a100/job-file.ts writes and reads the files.
//
//   runner device                      one JSON line about GPU 0; exit 3 when there is no usable CUDA device
//   runner conv JOB OUT [--host]       OUT = int8 NCHW output of the job (GPU unless --host)
//   runner requant IN OUT              IN = records {int32 acc; f32 s_in, s_w, s_out; int32 zp, min, max},
//                                      OUT = one int8 per record (host; the same epilogue function as the kernel)
//   runner bench M N K ITERATIONS      times the dense IMMA GEMM of random M×K · K×N; one JSON line
//
// Job file (little-endian): u32 magic 0x31415146 ("FQA1"); 23 int32: batch, channels, height, width, outChannels,
// outHeight, outWidth, kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW,
// groups, inputZeroPoint, weightZeroPoint, outputZeroPoint, outputMin, outputMax; 3 float32: inputScale,
// weightScale, outputScale; int32 bias[outChannels]; int8 weights[outChannels][channels/groups][kernelH][kernelW];
// int8 input[batch][channels][height][width]. A fully-connected layer is the 1×1 convolution of a 1×1 input.
// Exit status: 0 done, 1 bad job or CUDA error (message on stderr), 2 bad arguments, 3 no CUDA device.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "job.h"

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) die(1, std::string(what) + ": " + cudaGetErrorString(e));
}

/** Device buffers of one run, freed together. */
struct DeviceBuffers {
  std::vector<void*> all;
  ~DeviceBuffers() {
    for (void* d : all) cudaFree(d);
  }
  template <typename T>
  T* upload(const std::vector<T>& v) {
    T* d = nullptr;
    check(cudaMalloc(&d, v.size() * sizeof(T) + 16), "cudaMalloc");
    all.push_back(d);
    check(cudaMemcpy(d, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
    return d;
  }
  int8_t* output(size_t size) {
    int8_t* d = nullptr;
    check(cudaMalloc(&d, size), "cudaMalloc");
    all.push_back(d);
    return d;
  }
};

template <bool kConv>
void launchImma(const ImmaProblem& p, int groups) {
  static const bool sharedMemoryRaised = (check(cudaFuncSetAttribute(immaGemmKernel<kConv>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                                    imma::kSharedBytes),
                                               "cudaFuncSetAttribute"),
                                         true);  // once per process: 60 KB of shared memory is above the 48 KB default
  (void)sharedMemoryRaised;
  int grid[3];
  immaGrid(p, groups, grid);
  immaGemmKernel<kConv><<<dim3(grid[0], grid[1], grid[2]), imma::kThreads, imma::kSharedBytes>>>(p);
  check(cudaGetLastError(), "IMMA kernel launch");
}

std::vector<int8_t> runDevice(const Job& j) {
  std::vector<int8_t> out(outputCount(j));
  DeviceBuffers buffers;
  int8_t* dOut = buffers.output(out.size());
  if (usesDirectPath(j)) {
    const DirectConvProblem p = directProblem(j, buffers.upload(j.input), buffers.upload(j.weights), buffers.upload(j.bias), dOut);
    const int threads = 256;
    directConvKernel<<<(int(out.size()) + threads - 1) / threads, threads>>>(p, int(out.size()));
    check(cudaGetLastError(), "depthwise kernel launch");
  } else {
    const ImmaOperands o = immaOperands(j);
    const ConvTap* taps = o.dense ? nullptr : buffers.upload(o.taps);
    const ImmaProblem p = immaProblem(j, buffers.upload(o.a), buffers.upload(o.b), buffers.upload(o.columnOffset), taps, dOut);
    if (o.dense) launchImma<false>(p, 1);
    else launchImma<true>(p, j.conv.groups);
  }
  check(cudaMemcpy(out.data(), dOut, out.size(), cudaMemcpyDeviceToHost), "cudaMemcpy to host (kernel run)");
  return out;
}

/** GPU 0, or exit 3 naming what is missing. */
cudaDeviceProp requireDevice() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0)
    die(3, std::string("no CUDA device: ") +
               (e != cudaSuccess ? std::string("no usable NVIDIA driver or GPU (cudaGetDeviceCount: ") + cudaGetErrorString(e) + ")"
                                 : std::string("the driver reports 0 devices")));
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  if (prop.major < 8) die(3, std::string(prop.name) + " is sm_" + std::to_string(prop.major * 10 + prop.minor) + "; the IMMA kernel needs sm_80 or later");
  return prop;
}

int commandDevice() {
  const cudaDeviceProp prop = requireDevice();
  int clockKHz = 0;
  cudaDeviceGetAttribute(&clockKHz, cudaDevAttrClockRate, 0);
  std::printf("{\"name\":\"%s\",\"sm\":%d,\"multiprocessors\":%d,\"clockKHz\":%d,\"memoryBytes\":%zu}\n", prop.name,
              prop.major * 10 + prop.minor, prop.multiProcessorCount, clockKHz, prop.totalGlobalMem);
  return 0;
}

int commandConv(const char* job, const char* out, bool host) {
  const Job j = readJob(job);
  if (!host) requireDevice();
  const std::vector<int8_t> y = host ? runHost(j) : runDevice(j);
  writeFile(out, y.data(), y.size());
  return 0;
}

int commandRequant(const char* in, const char* out) {
  const std::vector<uint8_t> bytes = readFile(in);
  constexpr size_t kRecord = 28;
  if (bytes.size() % kRecord != 0) die(1, std::string(in) + ": size is not a multiple of the 28-byte record");
  std::vector<int8_t> y(bytes.size() / kRecord);
  Reader r{bytes, in};
  for (int8_t& v : y) {
    const int32_t acc = r.i32();
    const float si = r.f32(), sw = r.f32(), so = r.f32();
    const int zp = r.i32(), lo = r.i32(), hi = r.i32();
    v = static_cast<int8_t>(requantizeA100(acc, a100OutputScale(si, sw, so), zp, lo, hi));
  }
  writeFile(out, y.data(), y.size());
  return 0;
}

int commandBench(int m, int n, int k, int iterations) {
  const cudaDeviceProp prop = requireDevice();
  if (m <= 0 || n <= 0 || k <= 0 || k % 16 != 0 || iterations <= 0) die(2, "bench: M, N, K > 0 with K a multiple of 16, ITERATIONS > 0");
  std::vector<int8_t> a(size_t(m) * k), b(size_t(n) * k);
  uint32_t s = 12345;
  for (auto* v : {&a, &b})
    for (int8_t& x : *v) x = static_cast<int8_t>((s = s * 1664525u + 1013904223u) >> 24);
  DeviceBuffers buffers;
  ImmaProblem p{};
  p.rows = m, p.cols = n, p.depth = k, p.depthStride = k;
  p.a = buffers.upload(a), p.b = buffers.upload(b), p.columnOffset = buffers.upload(std::vector<int32_t>(n, 0));
  p.scale = 1.0f / 4096, p.zeroPoint = 0, p.outputMin = -128, p.outputMax = 127, p.out = buffers.output(size_t(m) * n);
  launchImma<false>(p, 1);  // warm-up
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  check(cudaEventRecord(start), "cudaEventRecord");
  for (int i = 0; i < iterations; ++i) launchImma<false>(p, 1);
  check(cudaEventRecord(stop), "cudaEventRecord");
  check(cudaEventSynchronize(stop), "IMMA kernel run");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  const double seconds = ms / 1000.0 / iterations;
  std::printf("{\"device\":\"%s\",\"m\":%d,\"n\":%d,\"k\":%d,\"iterations\":%d,\"secondsPerGemm\":%.9g,\"tops\":%.6g}\n", prop.name,
              m, n, k, iterations, seconds, 2.0 * m * n * k / seconds / 1e12);
  return 0;
}

int usage() {
  std::fprintf(stderr, "usage: runner device | conv JOB OUT [--host] | requant IN OUT | bench M N K ITERATIONS\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "device" && argc == 2) return commandDevice();
  if (command == "conv" && (argc == 4 || (argc == 5 && std::strcmp(argv[4], "--host") == 0))) return commandConv(argv[2], argv[3], argc == 5);
  if (command == "requant" && argc == 4) return commandRequant(argv[2], argv[3]);
  if (command == "bench" && argc == 6) return commandBench(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
  return usage();
}
