// Runs the AVX-512 count kernel (native/packed/pk_count_avx512.h) on any x86
// or other CPU: the intrinsics it uses are stood in for by plain C++ with the
// same lane semantics, and its counts are compared with count_portable over
// random blocks, filter ranges and word counts. Built and run by
// test/packed-kernels.test.ts with the system's g++. Prints one line; exit
// code 0 when every count matches.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "pk.h"

namespace pk {
namespace {

struct __m512i { uint64_t v[8]; };
struct __m256i { int32_t v[8]; };

inline __m512i _mm512_setzero_si512() { return __m512i{}; }
inline __m512i _mm512_loadu_si512(const void* p) { __m512i r; std::memcpy(r.v, p, 64); return r; }
inline __m512i _mm512_set1_epi64(long long x) { __m512i r; for (auto& e : r.v) e = static_cast<uint64_t>(x); return r; }
inline __m512i _mm512_xor_si512(__m512i a, __m512i b) { for (int i = 0; i < 8; i++) a.v[i] ^= b.v[i]; return a; }
inline __m512i _mm512_add_epi64(__m512i a, __m512i b) { for (int i = 0; i < 8; i++) a.v[i] += b.v[i]; return a; }
inline __m512i _mm512_popcnt_epi64(__m512i a) { for (auto& e : a.v) e = __builtin_popcountll(e); return a; }
// vpmovqd: each 64-bit lane truncated to 32 bits.
inline __m256i _mm512_cvtepi64_epi32(__m512i a) { __m256i r; for (int i = 0; i < 8; i++) r.v[i] = static_cast<int32_t>(a.v[i]); return r; }
inline void _mm256_storeu_si256(__m256i* p, __m256i a) { std::memcpy(p, a.v, 32); }

#define PK_AVX512
#include "pk_count_avx512.h"

uint64_t state = 0x9e3779b97f4a7c15ULL;
uint64_t next() {
  state ^= state << 13, state ^= state >> 7, state ^= state << 17;
  return state;
}

}  // namespace
}  // namespace pk

int main() {
  using namespace pk;
  int cases = 0, bad = 0;
  for (int kw64 : {1, 2, 3, 9, 31, 32, 72, 145}) {
    for (int bw : {16, 32, 48, 64}) {
      const int cout = 1 + static_cast<int>(next() % 40);
      std::vector<uint64_t> a(static_cast<size_t>(kw64) * bw), w(static_cast<size_t>(cout) * kw64);
      for (auto& x : a) x = next();
      for (auto& x : w) x = next() & (next() | next());  // unbalanced bits too
      for (int f0 = 0; f0 < cout; f0 += 1 + static_cast<int>(next() % 9)) {
        const int f1 = f0 + 1 + static_cast<int>(next() % (cout - f0));
        std::vector<int32_t> got(static_cast<size_t>(f1 - f0) * bw, -7), want(got.size());
        count_avx512(a.data(), w.data(), kw64, bw, f0, f1, got.data(), nullptr);
        count_portable(a.data(), w.data(), kw64, bw, f0, f1, want.data(), nullptr);
        cases++;
        if (got != want) {
          if (bad++ < 5) std::printf("mismatch: kw64 %d bw %d filters [%d, %d)\n", kw64, bw, f0, f1);
        }
      }
    }
  }
  std::printf("%d of %d cases match\n", cases - bad, cases);
  return bad == 0 && cases > 0 ? 0 : 1;
}
