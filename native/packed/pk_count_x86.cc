// The binary conv's popcount kernel for x86, one version per instruction set,
// chosen at run time (pk::select_isa): AVX-512 VPOPCNTDQ, AVX2, or the
// portable loop. All return the same integer counts (tested against each
// other and the TypeScript mirror).
#include <immintrin.h>

#include "pk.h"

namespace pk {
namespace {

constexpr int kR = 3;  // filters per micro tile (see avx2_tile)

// Adds to counts the mismatches of R filters (from filter f of the chunk) x
// 4V pixels over words [j0, j1), at most 31 words: byte counters take at most
// 8 per word, then vpsadbw sums them into 64-bit lanes, one per pixel. The
// block's words are read from memory by each filter's xor (loads are cheap);
// 2R accumulators, the table and two broadcasts then fit the 16 registers
// (with R = 4, GCC spilled accumulators to the stack: about 10% slower).
template <int R, int V>
__attribute__((target("avx2"))) inline void avx2_tile(const uint64_t* alo, const uint64_t* ahi, const uint64_t* wlo,
                                                     const uint64_t* whi, int32_t kw64, int32_t bw, int32_t f,
                                                     int32_t j0, int32_t j1, int32_t* counts) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  for (int p = 0; p < bw; p += 4 * V) {
    __m256i c[R][V];
    for (int r = 0; r < R; r++)
      for (int v = 0; v < V; v++) c[r][v] = zero;
    for (int32_t j = j0; j < j1; j++) {
      const __m256i* lo = reinterpret_cast<const __m256i*>(alo + static_cast<int64_t>(j) * bw + p);
      const __m256i* hi = reinterpret_cast<const __m256i*>(ahi + static_cast<int64_t>(j) * bw + p);
      for (int r = 0; r < R; r++) {
        const int64_t wi = static_cast<int64_t>(f + r) * kw64 + j;
        const __m256i bl = _mm256_set1_epi64x(static_cast<long long>(wlo[wi]));
        const __m256i bh = _mm256_set1_epi64x(static_cast<long long>(whi[wi]));
        for (int v = 0; v < V; v++) {
          const __m256i nl = _mm256_shuffle_epi8(lut, _mm256_xor_si256(_mm256_loadu_si256(lo + v), bl));
          const __m256i nh = _mm256_shuffle_epi8(lut, _mm256_xor_si256(_mm256_loadu_si256(hi + v), bh));
          c[r][v] = _mm256_add_epi8(c[r][v], _mm256_add_epi8(nl, nh));
        }
      }
    }
    for (int r = 0; r < R; r++)
      for (int q = 0; q < V; q++) {
        __m128i* out = reinterpret_cast<__m128i*>(counts + (f + r) * bw + p + 4 * q);
        const __m128i sum = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_sad_epu8(c[r][q], zero), pick));
        _mm_storeu_si128(out, _mm_add_epi32(_mm_loadu_si128(out), sum));
      }
  }
}

// AVX2 has no vector popcount: each byte is counted by two 4-bit table
// lookups (vpshufb). The nibbles of the block and of the filter chunk are
// split once into tmp, so a (filter, 4 pixels) pair costs 2 xor, 2 lookups
// and 2 byte adds per 256 bits.
__attribute__((target("avx2"))) void count_avx2(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw,
                                                int32_t f0, int32_t f1, int32_t* counts, uint8_t* tmp) {
  const uint64_t m4 = 0x0f0f0f0f0f0f0f0fULL;
  const int64_t na = static_cast<int64_t>(kw64) * bw, nf = f1 - f0;
  uint64_t* alo = reinterpret_cast<uint64_t*>(tmp);
  uint64_t* ahi = alo + na;
  uint64_t* wlo = ahi + na;
  uint64_t* whi = wlo + nf * kw64;
  for (int64_t i = 0; i < na; i++) {
    alo[i] = a[i] & m4;
    ahi[i] = (a[i] >> 4) & m4;
  }
  for (int64_t i = 0; i < nf * kw64; i++) {
    const uint64_t v = w[static_cast<int64_t>(f0) * kw64 + i];
    wlo[i] = v & m4;
    whi[i] = (v >> 4) & m4;
  }
  for (int64_t i = 0; i < nf * bw; i++) counts[i] = 0;
  for (int32_t j0 = 0; j0 < kw64; j0 += 31) {
    const int32_t j1 = j0 + 31 < kw64 ? j0 + 31 : kw64;
    int32_t f = 0;
    for (; f + kR <= nf; f += kR) avx2_tile<kR, 2>(alo, ahi, wlo, whi, kw64, bw, f, j0, j1, counts);
    for (; f + 2 <= nf; f += 2) avx2_tile<2, 2>(alo, ahi, wlo, whi, kw64, bw, f, j0, j1, counts);
    for (; f < nf; f++) avx2_tile<1, 2>(alo, ahi, wlo, whi, kw64, bw, f, j0, j1, counts);
  }
}

#include "pk_count_avx512.h"

}  // namespace

// name: "avx512", "avx2", "portable", or null / "" for the best one this CPU
// runs. Returns the name chosen, or null when the CPU cannot run the one asked.
const char* select_isa(const char* name) {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vpopcntdq");
  const bool avx2 = __builtin_cpu_supports("avx2");
  auto is = [&](const char* s) {
    const char* t = name;
    while (*s && *t == *s) s++, t++;
    return *s == 0 && *t == 0;
  };
  if (!name || !*name) name = avx512 ? "avx512" : avx2 ? "avx2" : "portable";
  if (is("avx512") && avx512) { count_kernel = count_avx512; return "avx512"; }
  if (is("avx2") && avx2) { count_kernel = count_avx2; return "avx2"; }
  if (is("portable")) { count_kernel = count_portable; return "portable"; }
  return nullptr;
}

}  // namespace pk
