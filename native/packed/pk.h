// The packed inference kernels: one freestanding C++ source set compiled into
// the native addon (with a thread pool and AVX-512 / AVX2 / portable popcount
// paths chosen at run time) and into WebAssembly (SIMD128; one thread, or a
// pool of workers on a shared memory in the threaded build). The
// TypeScript engine (src/deploy/) mirrors every kernel operation for
// operation, so all three backends give bit-identical outputs.
//
// A model runs as a *plan*: int32 words, one record per op,
//   [opcode, nwords, args...]
// whose arguments are sizes and byte offsets into one *heap* (weights,
// activations, scratch), laid out by the TypeScript planner. Float results
// are exact functions of the inputs: every output element is accumulated by
// one thread in a fixed order, with separately rounded multiplies and adds
// (built with -ffp-contract=off; WebAssembly has no fused multiply-add).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace pk {

// Op codes and argument layouts (word indices after [opcode, nwords]). Kept in
// step with src/deploy/plan.ts.
enum Op : int32_t {
  // 1W/1A conv: x float NCHW; sign bits packed channels last, XNOR + popcount.
  // args: n cin h w cout kh kw sh sw ph pw x wbits wmask base npat scale bias y scratch pid in_scale in_shift
  //   wbits  u64 [cout][kw64]       weight sign bits (1 = -1) in field words: with
  //                                 wc = ceil(cin / 64), cg = tap_bits(cin) and tpw = 64 / cg,
  //                                 channel c of tap t is bit (t % tpw) * cg + c % 64 of word
  //                                 (t / tpw) * wc + c / 64; kw64 = ceil(taps / tpw) * wc
  //   wmask  u64 [cout][kw64]       ternary: 1 = non-zero weight; -1 = none
  //   base   i32 [cout][npat]       dot = base[f][pid[p]] - 2 * mismatches (padding read as 0 bits)
  //   pid    i32 [oh*ow]            pattern of missing taps of each output pixel; -1: none (all 0)
  //   in_scale, in_shift f32 [cin]  a batch norm folded into the binarisation: sign(x * s + b); -1: none
  //   scratch: pixel bits [h*w][wc] u64, fields [nblk][kw64][bw] u64
  //   (bw: pixels per block, 64 or fewer for small maps)
  kBinaryConv = 1,
  // Float-input conv with float or packed binary / ternary weights, fixed order.
  // args: n cin h w cout kh kw sh sw ph pw x mode wt wmask scale bias y scratch signin
  //   mode 0: wt f32 [cout][K]; 1: bits u32 [cout][ceil(K/32)]; 2: bits + wmask
  //   signin 1: the layer sees sign(x) (+-1, padding 0)
  //   scratch: columns f32 [K][P]
  kFloatConv = 2,
  // Per-channel chain, each step optional (-1), in this order:
  //   v = x; v = v > 0 ? v : alpha[c] * v; v = v * scale[c] + shift[c]; v = v + r (r + v if rfirst)
  // args: n c hw x alpha scale shift r rfirst y
  // (batch norm after PReLU and the residual add run in one pass; see plan.ts)
  kChannel = 3,
  kRelu = 5,           // len x y
  kHardtanh = 6,       // len x lo hi y (lo, hi: float bits)
  kSign = 7,           // len x y:                    y = x < 0 ? -1 : 1
  kAdd = 8,            // len a b y
  kSigmoid = 9,        // len x y
  kMaxPool = 10,       // n c h w kh kw sh sw ph pw x y
  kAvgPool = 11,       // n c h w kh kw sh sw ph pw x y   (sum of the window / (kh * kw))
  kGlobalAvgPool = 12, // n c hw x y
  kSubsamplePad = 13,  // n c h w pad x y
  kTranspose = 14,     // rows cols x y:              y[j][i] = x[i][j]
};

// The host's thread pool: runs body(ctx, task) for task in [0, ntasks).
// `tid` indexes per-thread scratch (see Host::tmp).
typedef void (*TaskFn)(void* ctx, int64_t task, int tid);
struct Host {
  void (*parallel)(void* self, int64_t ntasks, TaskFn fn, void* ctx);
  void* self;
  // Per-thread scratch of at least tmp_bytes each (64-byte aligned).
  uint8_t** tmp;
  int64_t tmp_bytes;
  // Threads behind `parallel`: with more than one, a batch of several images
  // is split by image (each thread runs whole images in its own scratch).
  int32_t threads;
};

// Bits one tap takes in a binary conv's field words: 64 per started 64
// channels, or for cin <= 32 the next power of two, so that 64 / cg taps share
// a word (a 16-channel layer then uses every bit it counts, not one in four).
inline int32_t tap_bits(int32_t cin) {
  int32_t cg = 1;
  while (cg < cin && cg < 64) cg *= 2;
  return cg;
}

// Per-thread scratch one kernel call needs (bytes), for planning.
int64_t binary_conv_tmp_bytes(int32_t kw64);

// Runs plan[0 .. nwords) over `heap`. Returns 0, or the word index of a
// record it could not run (unknown op, short record).
int64_t run_plan(uint8_t* heap, const int32_t* plan, int64_t nwords, const Host& host);

// The popcount kernel of the binary conv, one per instruction set:
// counts[f - f0][i] = sum_j popcount(a[j][i] ^ w[f][j]) for filters [f0, f1)
// and the bw pixel columns i of a block a[kw64][bw] (bw: 16, 32, 48 or 64).
typedef void (*CountFn)(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f0, int32_t f1,
                        int32_t* counts, uint8_t* tmp);
void count_portable(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f0, int32_t f1,
                    int32_t* counts, uint8_t* tmp);
extern CountFn count_kernel;  // set by the host at start-up; count_portable by default
// x86: installs the count kernel of an instruction set (see pk_count_x86.cc).
const char* select_isa(const char* name);

constexpr int kBlock = 64;       // pixels per gathered block (fewer, in 16s, when the image has fewer)
constexpr int kFilterChunk = 32; // filters per binary-conv task

}  // namespace pk
