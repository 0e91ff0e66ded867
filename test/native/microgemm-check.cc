// Checks gemm_packed_a (native/microgemm.cc) against a float64 reference on
// random shapes: rows not a multiple of the panel height, columns not a
// multiple of the 16-wide strip, leading dimensions wider than the matrices,
// k from 1 up. Built three times by test/kernels-conv.test.ts: for this CPU
// (the AVX-512 32-column kernel where it has AVX-512), for AVX2/FMA without
// AVX-512, and without either (the portable loops). Prints one line with a
// checksum of every output bit: the AVX-512 and AVX2 kernels sum each output
// in the same order by FMA, so their checksums must be equal. Exit code 0
// when every case is within float32 rounding of the reference.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels.h"

int main() {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int cases = 0, bad = 0;
  uint64_t checksum = 1469598103934665603ull;  // FNV-1a over the outputs' bits
  for (int it = 0; it < 300; it++) {
    const int m = pick(1, 40), n = pick(1, 110), k = pick(1, 90);
    const int ldb = n + pick(0, 5), ldc = n + pick(0, 5);
    std::vector<float> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(k) * ldb), c(static_cast<size_t>(m) * ldc, NAN);
    for (auto& x : a) x = u(rng);
    for (auto& x : b) x = u(rng);
    std::vector<float> ap(eb::packed_a_size(m, k), NAN);
    for (int p = m; p < (m + eb::kMr - 1) / eb::kMr * eb::kMr; p++)  // the padding rows must be zeros
      for (int j = 0; j < k; j++) ap[eb::packed_a_index(p, j, k)] = 0.0f;
    for (int i = 0; i < m; i++)
      for (int j = 0; j < k; j++) ap[eb::packed_a_index(i, j, k)] = a[static_cast<size_t>(i) * k + j];
    eb::gemm_packed_a(m, n, k, ap.data(), b.data(), ldb, c.data(), ldc);
    cases++;
    bool ok = true;
    for (int i = 0; i < m && ok; i++) {
      for (int j = 0; j < ldc; j++) {
        const float got = c[static_cast<size_t>(i) * ldc + j];
        uint32_t bits;
        std::memcpy(&bits, &got, sizeof bits);
        if (j < n) checksum = (checksum ^ bits) * 1099511628211ull;
        if (j >= n) {  // past the matrix: untouched
          if (!std::isnan(got)) ok = false;
          continue;
        }
        double want = 0.0, mag = 0.0;
        for (int q = 0; q < k; q++) {
          const double t = static_cast<double>(a[static_cast<size_t>(i) * k + q]) * b[static_cast<size_t>(q) * ldb + j];
          want += t;
          mag += std::fabs(t);
        }
        if (!(std::fabs(got - want) <= 1.2e-7 * k * mag + 1e-30)) ok = false;
      }
    }
    if (!ok) {
      if (bad == 0) std::printf("mismatch at m %d n %d k %d ldb %d ldc %d; ", m, n, k, ldb, ldc);
      bad++;
    }
  }
  std::printf("%d of %d cases match (checksum %016llx)\n", cases - bad, cases, static_cast<unsigned long long>(checksum));
  return bad == 0 ? 0 : 1;
}
