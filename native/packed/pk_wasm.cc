// WebAssembly entry points of the packed engine (built by scripts/build-wasm.sh
// into wasm/equalbits-packed.wasm): one thread, SIMD128 popcounts. The heap
// lives in the module's own memory at a base the host picks (past the stack).
#include <wasm_simd128.h>

#include "pk.h"

namespace pk {
namespace {

// counts[f - f0][i] for R filters x 8 pixels (four v128 of two pixels):
// i8x16.popcnt into byte counters (31 words at most), then widened pairwise
// to 32-bit lanes; a pixel's count is its two lanes.
template <int R, int Q>
void wasm_tile(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f, int32_t f0, int32_t* counts) {
  for (int p = 0; p < bw; p += 2 * Q) {
    v128_t c[R][Q], s[R][Q];
    for (int r = 0; r < R; r++)
      for (int q = 0; q < Q; q++) c[r][q] = s[r][q] = wasm_i32x4_splat(0);
    for (int32_t j = 0; j < kw64; j++) {
      const uint64_t* aj = a + static_cast<int64_t>(j) * bw + p;
      v128_t v[Q];
      for (int q = 0; q < Q; q++) v[q] = wasm_v128_load(aj + 2 * q);
      for (int r = 0; r < R; r++) {
        const v128_t b = wasm_i64x2_splat(static_cast<int64_t>(w[static_cast<int64_t>(f0 + f + r) * kw64 + j]));
        for (int q = 0; q < Q; q++) c[r][q] = wasm_i8x16_add(c[r][q], wasm_i8x16_popcnt(wasm_v128_xor(v[q], b)));
      }
      if (j % 31 == 30) {
        for (int r = 0; r < R; r++)
          for (int q = 0; q < Q; q++) {
            s[r][q] = wasm_i32x4_add(s[r][q], wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(c[r][q])));
            c[r][q] = wasm_i32x4_splat(0);
          }
      }
    }
    for (int r = 0; r < R; r++)
      for (int q = 0; q < Q; q++) {
        const v128_t t = wasm_i32x4_add(s[r][q], wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(c[r][q])));
        int32_t* out = counts + (f + r) * bw + p + 2 * q;
        out[0] = wasm_i32x4_extract_lane(t, 0) + wasm_i32x4_extract_lane(t, 1);
        out[1] = wasm_i32x4_extract_lane(t, 2) + wasm_i32x4_extract_lane(t, 3);
      }
  }
}

// 4 filters x 4 pixels per tile (tried 2-8 x 2-8: no clear winner in V8).
constexpr int TR = 4, TQ = 2;
void count_wasm(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f0, int32_t f1, int32_t* counts, uint8_t*) {
  const int32_t nf = f1 - f0;
  int32_t f = 0;
  for (; f + TR <= nf; f += TR) wasm_tile<TR, TQ>(a, w, kw64, bw, f, f0, counts);
  for (; f < nf; f++) wasm_tile<1, TQ>(a, w, kw64, bw, f, f0, counts);
}

void serial(void*, int64_t ntasks, TaskFn fn, void* ctx) {
  for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
}

}  // namespace
}  // namespace pk

extern "C" {

// The first byte past the module's static data and stack: hosts put the heap
// (64-byte aligned) at or after it.
extern unsigned char __heap_base;
__attribute__((export_name("heap_base"))) uint32_t heap_base() {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&__heap_base));
}

// Runs plan[0 .. nwords) (at byte offset `plan` of memory) over the heap at
// byte offset `heap`, with `tmp` bytes of scratch at offset `tmp`. Returns
// 0, or the word index of a bad record.
__attribute__((export_name("run"))) int32_t run(uint32_t heap, uint32_t plan, int32_t nwords, uint32_t tmp,
                                                 int32_t tmp_bytes, int32_t simd) {
  pk::count_kernel = simd ? pk::count_wasm : pk::count_portable;
  uint8_t* t = reinterpret_cast<uint8_t*>(tmp);
  pk::Host host{pk::serial, nullptr, &t, tmp_bytes, 1};
  return static_cast<int32_t>(pk::run_plan(reinterpret_cast<uint8_t*>(heap), reinterpret_cast<const int32_t*>(plan), nwords, host));
}

// Freestanding: the compiler may still emit these for struct copies.
void* memset(void* d, int c, unsigned long n) {
  unsigned char* p = static_cast<unsigned char*>(d);
  while (n--) *p++ = static_cast<unsigned char>(c);
  return d;
}
void* memcpy(void* d, const void* s, unsigned long n) {
  unsigned char* p = static_cast<unsigned char*>(d);
  const unsigned char* q = static_cast<const unsigned char*>(s);
  while (n--) *p++ = *q++;
  return d;
}

}  // extern "C"
