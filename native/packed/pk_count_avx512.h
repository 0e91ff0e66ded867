// The AVX-512 VPOPCNTDQ count kernel (see pk_count_x86.cc), in a header of
// its own so that a test can compile the same source over plain C++
// stand-ins for the intrinsics (test/native/avx512-emulated.cc) and check it
// against the portable kernel on machines without AVX-512. Included inside
// pk's anonymous namespace after <immintrin.h>; PK_AVX512 is the target
// attribute (empty in the emulation).
#ifndef PK_AVX512
#define PK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))
#endif

constexpr int kR512 = 3;  // filters per tile

// AVX-512 VPOPCNTDQ: one vpopcntq per 8 pixels' words; R filters x 16 pixels.
template <int R>
PK_AVX512 inline void avx512_tile(
    const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f, int32_t f0, int32_t* counts) {
  for (int p = 0; p < bw; p += 16) {
    __m512i c[R][2];
    for (int r = 0; r < R; r++) c[r][0] = c[r][1] = _mm512_setzero_si512();
    for (int32_t j = 0; j < kw64; j++) {
      const uint64_t* aj = a + static_cast<int64_t>(j) * bw + p;
      const __m512i v0 = _mm512_loadu_si512(aj), v1 = _mm512_loadu_si512(aj + 8);
      for (int r = 0; r < R; r++) {
        const __m512i b = _mm512_set1_epi64(static_cast<long long>(w[static_cast<int64_t>(f0 + f + r) * kw64 + j]));
        c[r][0] = _mm512_add_epi64(c[r][0], _mm512_popcnt_epi64(_mm512_xor_si512(v0, b)));
        c[r][1] = _mm512_add_epi64(c[r][1], _mm512_popcnt_epi64(_mm512_xor_si512(v1, b)));
      }
    }
    for (int r = 0; r < R; r++)
      for (int q = 0; q < 2; q++)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(counts + (f + r) * bw + p + 8 * q), _mm512_cvtepi64_epi32(c[r][q]));
  }
}

PK_AVX512 void count_avx512(
    const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f0, int32_t f1, int32_t* counts, uint8_t*) {
  const int32_t nf = f1 - f0;
  int32_t f = 0;
  for (; f + kR512 <= nf; f += kR512) avx512_tile<kR512>(a, w, kw64, bw, f, f0, counts);
  for (; f < nf; f++) avx512_tile<1>(a, w, kw64, bw, f, f0, counts);
}

