// WebAssembly entry points of the packed engine (built by scripts/build-wasm.sh
// into wasm/equalbits-packed.wasm): one thread; SIMD128 for the float
// parts (the shared sources' 8-lane vectors), scalar 64-bit popcounts for the
// binary conv. The heap lives in the module's own memory at a base the host
// picks (past the stack).
#include "pk.h"

namespace pk {
namespace {

// counts[f - f0][i] for R filters x C pixels with scalar 64-bit popcounts:
// V8 compiles i64.popcnt to one popcnt instruction, while i8x16.popcnt
// becomes a table-lookup sequence of about ten; measured on ResNet-18's
// layers, 2 x 2 tiles of i64.popcnt beat the SIMD128 kernel by 1.3-1.6x.
template <int R, int C>
void scalar_tile(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f, int32_t f0, int32_t* counts) {
  for (int p = 0; p < bw; p += C) {
    uint64_t acc[R][C];
    for (int r = 0; r < R; r++)
      for (int c = 0; c < C; c++) acc[r][c] = 0;
#pragma clang loop vectorize(disable)
    for (int32_t j = 0; j < kw64; j++) {
      const uint64_t* aj = a + static_cast<int64_t>(j) * bw + p;
      uint64_t av[C];
      for (int c = 0; c < C; c++) av[c] = aj[c];
      for (int r = 0; r < R; r++) {
        const uint64_t wv = w[static_cast<int64_t>(f0 + f + r) * kw64 + j];
        for (int c = 0; c < C; c++) acc[r][c] += static_cast<uint64_t>(__builtin_popcountll(av[c] ^ wv));
      }
    }
    for (int r = 0; r < R; r++)
      for (int c = 0; c < C; c++) counts[(f + r) * bw + p + c] = static_cast<int32_t>(acc[r][c]);
  }
}

constexpr int SR = 2, SC = 2;

void count_wasm(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f0, int32_t f1, int32_t* counts, uint8_t*) {
  const int32_t nf = f1 - f0;
  int32_t f = 0;
  for (; f + SR <= nf; f += SR) scalar_tile<SR, SC>(a, w, kw64, bw, f, f0, counts);
  for (; f < nf; f++) scalar_tile<1, SC>(a, w, kw64, bw, f, f0, counts);
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
// byte offset `heap`, with `tmp` bytes of scratch at offset `tmp`; `tuned` 0
// counts with the portable loop instead (for tests). Returns 0, or the word
// index of a bad record.
__attribute__((export_name("run"))) int32_t run(uint32_t heap, uint32_t plan, int32_t nwords, uint32_t tmp,
                                                 int32_t tmp_bytes, int32_t tuned) {
  pk::count_kernel = tuned ? pk::count_wasm : pk::count_portable;
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
