// The host side of a runner job: reading and validating the job file (format at the top of runner.cu), the host
// reference, and the operands the IMMA kernel reads (rows padded for cp.async, zero point folded into the column
// offsets, the tap table). Shared by runner.cu and the host warp simulator, so both feed the kernel the same bytes.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/conv-geometry.cuh"
#include "kernels/direct-conv.cuh"
#include "kernels/epilogue.cuh"
#include "kernels/imma-gemm.cuh"

constexpr uint32_t kJobMagic = 0x31415146;

struct Job {
  ConvGeometry conv;
  int padBottom, padRight;
  int inputZeroPoint, weightZeroPoint, outputZeroPoint, outputMin, outputMax;
  float inputScale, weightScale, outputScale;
  std::vector<int32_t> bias;
  std::vector<int8_t> weights;
  std::vector<int8_t> input;
};

/** Exit status 1: a bad job or a CUDA error; 2: bad arguments; 3: no usable CUDA device. */
[[noreturn]] inline void die(int status, const std::string& message) {
  std::fprintf(stderr, "runner: %s\n", message.c_str());
  std::exit(status);
}

inline std::vector<uint8_t> readFile(const char* path) {
  FILE* f = std::fopen(path, "rb");
  if (!f) die(1, std::string("cannot open ") + path);
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
  std::fclose(f);
  return bytes;
}

inline void writeFile(const char* path, const void* data, size_t size) {
  FILE* f = std::fopen(path, "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) die(1, std::string("cannot write ") + path);
}

/** Reads consecutive little-endian fields, failing with the file name when it runs short. */
struct Reader {
  const std::vector<uint8_t>& bytes;
  const char* path;
  size_t at = 0;
  void take(void* dst, size_t size) {
    if (at + size > bytes.size()) die(1, std::string(path) + ": the file ends early (truncated, or not what the command reads)");
    std::memcpy(dst, bytes.data() + at, size);
    at += size;
  }
  int32_t i32() { int32_t v; take(&v, 4); return v; }
  float f32() { float v; take(&v, 4); return v; }
};

inline int outputCount(const Job& j) { return j.conv.batch * j.conv.outChannels * j.conv.outHeight * j.conv.outWidth; }

/** Reads and validates a job: every size must agree, so the kernels run without checks. */
inline Job readJob(const char* path) {
  const std::vector<uint8_t> bytes = readFile(path);
  Reader r{bytes, path};
  uint32_t magic;
  r.take(&magic, 4);
  if (magic != kJobMagic) die(1, std::string(path) + ": not a flexq a100 job file (bad magic)");
  Job j{};
  ConvGeometry& g = j.conv;
  int* head[] = {&g.batch, &g.channels, &g.height, &g.width, &g.outChannels, &g.outHeight, &g.outWidth, &g.kernelH,
                 &g.kernelW, &g.strideH, &g.strideW, &g.padTop, &g.padLeft, &j.padBottom, &j.padRight, &g.dilationH,
                 &g.dilationW, &g.groups, &j.inputZeroPoint, &j.weightZeroPoint, &j.outputZeroPoint, &j.outputMin,
                 &j.outputMax};
  for (int* field : head) *field = r.i32();
  j.inputScale = r.f32();
  j.weightScale = r.f32();
  j.outputScale = r.f32();
  const bool positive = g.batch > 0 && g.channels > 0 && g.height > 0 && g.width > 0 && g.outChannels > 0 && g.kernelH > 0 &&
                        g.kernelW > 0 && g.strideH > 0 && g.strideW > 0 && g.dilationH > 0 && g.dilationW > 0 && g.groups > 0;
  if (!positive || g.channels % g.groups != 0 || g.outChannels % g.groups != 0)
    die(1, std::string(path) + ": bad geometry (sizes must be positive, channels and outChannels multiples of groups)");
  const int outH = (g.height + g.padTop + j.padBottom - g.dilationH * (g.kernelH - 1) - 1) / g.strideH + 1;
  const int outW = (g.width + g.padLeft + j.padRight - g.dilationW * (g.kernelW - 1) - 1) / g.strideW + 1;
  if (outH != g.outHeight || outW != g.outWidth)
    die(1, std::string(path) + ": output " + std::to_string(g.outHeight) + "x" + std::to_string(g.outWidth) +
               " does not follow from the window; expected " + std::to_string(outH) + "x" + std::to_string(outW));
  const double inputs = double(g.batch) * g.channels * g.height * g.width;
  if (inputs >= 2147483648.0 || double(g.batch) * g.outChannels * g.outHeight * g.outWidth >= 2147483648.0)
    die(1, std::string(path) + ": tensors of 2^31 elements or more; split the batch");
  j.bias.resize(g.outChannels);
  r.take(j.bias.data(), 4 * j.bias.size());
  j.weights.resize(size_t(g.outChannels) * convDepth(g));
  r.take(j.weights.data(), j.weights.size());
  j.input.resize(size_t(inputs));
  r.take(j.input.data(), j.input.size());
  if (r.at != bytes.size()) die(1, std::string(path) + ": " + std::to_string(bytes.size() - r.at) + " bytes past the input");
  return j;
}

inline float jobScale(const Job& j) { return a100OutputScale(j.inputScale, j.weightScale, j.outputScale); }

inline DirectConvProblem directProblem(const Job& j, const int8_t* x, const int8_t* w, const int32_t* bias, int8_t* out) {
  return {j.conv, x, w, bias, j.inputZeroPoint, j.weightZeroPoint, jobScale(j), j.outputZeroPoint, j.outputMin, j.outputMax, out};
}

/** The host reference: the direct sum of direct-conv.cuh for every output. */
inline std::vector<int8_t> runHost(const Job& j) {
  std::vector<int8_t> out(outputCount(j));
  const DirectConvProblem p = directProblem(j, j.input.data(), j.weights.data(), j.bias.data(), out.data());
  for (int o = 0; o < int(out.size()); ++o) directConvOutput(p, o);
  return out;
}

inline int roundUp(int v, int m) { return (v + m - 1) / m * m; }

/** One input channel per group (depthwise, or a one-channel input): a GEMM depth of kh·kw, too short for the Tensor
 * Cores, so the CUDA-core path; everything else goes through the IMMA kernel. */
inline bool usesDirectPath(const Job& j) { return convGroupChannels(j.conv) == 1; }

/** A fully-connected layer: its input rows are the GEMM's A as they are (after padding), no gather needed. */
inline bool isFullyConnected(const Job& j) {
  const ConvGeometry& g = j.conv;
  return g.groups == 1 && g.height == 1 && g.width == 1 && g.kernelH == 1 && g.kernelW == 1 && g.padTop == 0 &&
         g.padLeft == 0 && j.padBottom == 0 && j.padRight == 0;
}

/** Rows of `depth` bytes re-laid at a stride of depth rounded up to 16, zero-filled, as cp.async needs. */
inline std::vector<int8_t> padRows(const int8_t* rows, int count, int depth) {
  const int stride = roundUp(depth, 16);
  std::vector<int8_t> padded(size_t(count) * stride, 0);
  for (int r = 0; r < count; ++r) std::memcpy(&padded[size_t(r) * stride], rows + size_t(r) * depth, depth);
  return padded;
}

/** What the IMMA kernel reads, in host memory; the runner uploads it, the simulator reads it in place. */
struct ImmaOperands {
  bool dense;
  std::vector<int8_t> a;              // dense: padded rows; convolution: the input as it is
  std::vector<int8_t> b;              // padded weight rows
  std::vector<int32_t> columnOffset;  // bias − zx · Σ_k w[m, k], wrapping like the int32 accumulator
  std::vector<ConvTap> taps;          // convolution only: convTap(k), kOutsideTap past the depth
};

inline ImmaOperands immaOperands(const Job& j) {
  if (j.weightZeroPoint != 0)
    die(1, "the IMMA kernel needs weights with zero point 0 (flexq's symmetric grids); found " + std::to_string(j.weightZeroPoint));
  const ConvGeometry& g = j.conv;
  const int depth = convDepth(g);
  ImmaOperands o;
  o.dense = isFullyConnected(j);
  o.a = o.dense ? padRows(j.input.data(), convGemmRows(g), depth) : j.input;
  o.b = padRows(j.weights.data(), g.outChannels, depth);
  o.columnOffset.resize(g.outChannels);
  for (int m = 0; m < g.outChannels; ++m) {
    uint32_t sum = 0;
    for (int k = 0; k < depth; ++k) sum += static_cast<uint32_t>(int(j.weights[size_t(m) * depth + k]));
    o.columnOffset[m] = static_cast<int32_t>(static_cast<uint32_t>(j.bias[m]) - static_cast<uint32_t>(j.inputZeroPoint) * sum);
  }
  if (!o.dense) {
    o.taps.assign(roundUp(depth, imma::kTileDepth), ConvTap{0, imma::kOutsideTap, imma::kOutsideTap});
    for (int k = 0; k < depth; ++k) o.taps[k] = convTap(g, k);
  }
  return o;
}

/** The kernel's parameters, with the operands at the given addresses (device or host). */
inline ImmaProblem immaProblem(const Job& j, const int8_t* a, const int8_t* b, const int32_t* columnOffset, const ConvTap* taps, int8_t* out) {
  const ConvGeometry& g = j.conv;
  ImmaProblem p{};
  p.rows = convGemmRows(g);
  p.cols = convGroupOutChannels(g);
  p.depth = convDepth(g);
  p.depthStride = roundUp(p.depth, 16);
  p.a = a;
  p.b = b;
  p.columnOffset = columnOffset;
  p.scale = jobScale(j);
  p.zeroPoint = j.outputZeroPoint;
  p.outputMin = j.outputMin;
  p.outputMax = j.outputMax;
  p.out = out;
  p.conv = g;
  p.taps = taps;
  p.inputZeroPoint = j.inputZeroPoint;
  return p;
}

/** Blocks of the IMMA kernel's grid: column tiles, row tiles, groups. */
inline void immaGrid(const ImmaProblem& p, int groups, int (&grid)[3]) {
  grid[0] = (p.cols + imma::kTileCols - 1) / imma::kTileCols;
  grid[1] = (p.rows + imma::kTileRows - 1) / imma::kTileRows;
  grid[2] = groups;
}
