// XNOR + popcount convolution for layers whose inputs and weights are both
// +-1 (1W/1A).
//
// A +-1 vector is stored as bits, 1 for -1, so the dot product of K values is
// K - 2 * popcount(a XOR w): 64 multiply-adds become one XOR and one popcount.
//   - Each input pixel's cin sign bits are packed into ceil(cin / 64) words,
//     channels last, once per image.
//   - For a block of output pixels, each receptive field is concatenated tap
//     by tap (bit tap * cin + channel) into Kw = ceil(taps * cin / 64) words,
//     with no padding between taps: cin = 16 costs 3 words for a 3x3 window
//     instead of 9.
//   - The weights are packed the same way once per call.
// Taps that fall on the zero padding are left as 0 bits, which the XOR
// counts as popcount(w_tap) mismatches; border pixels subtract those again
// and count only their valid taps, so padding contributes exactly 0 as in the
// float conv. Integer counts are exact; scale * count + bias is rounded once.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <immintrin.h>

#include "xnor.h"

namespace eb {
namespace {

// Output pixels per gathered block: its receptive fields (block * Kw words)
// stay in L1 while every output channel reads them.
constexpr int kBlockPixels = 64;

inline int popcount(uint64_t v) { return __builtin_popcountll(v); }

struct BitGeom {
  int wc;        // words per input pixel
  int taps;      // kh * kw
  int kw64;      // words per receptive field
  bool aligned;  // cin % 64 == 0: taps start on word boundaries
  bool subword;  // 64 % cin == 0: a tap never straddles two words
  // Per tap: input offset from the window origin (pixels), and the word and
  // shift where its first bit lands in the field.
  std::vector<int> off, word, shift;
  explicit BitGeom(const ConvGeom& g)
      : wc((g.cin + 63) / 64),
        taps(g.kh * g.kw),
        kw64(static_cast<int>((static_cast<int64_t>(g.kh) * g.kw * g.cin + 63) / 64)),
        aligned(g.cin % 64 == 0),
        subword(64 % g.cin == 0) {
    for (int ky = 0; ky < g.kh; ky++) {
      for (int kx = 0; kx < g.kw; kx++) {
        const int64_t bit = static_cast<int64_t>(ky * g.kw + kx) * g.cin;
        off.push_back(ky * g.w + kx);
        word.push_back(static_cast<int>(bit >> 6));
        shift.push_back(static_cast<int>(bit & 63));
      }
    }
  }
};

// wb[co][kw64]: the weight bits in receptive-field order; wpc[co][tap]: how
// many -1 weights each tap holds (the mismatches a padded tap adds).
void pack_weights(const ConvGeom& g, const BitGeom& b, const int8_t* codes, uint64_t* wb, int32_t* wpc) {
  std::fill(wb, wb + static_cast<int64_t>(g.cout) * b.kw64, 0);
  for (int co = 0; co < g.cout; co++) {
    uint64_t* row = wb + static_cast<int64_t>(co) * b.kw64;
    for (int t = 0; t < b.taps; t++) {
      int neg = 0;
      for (int c = 0; c < g.cin; c++) {
        if (codes[(static_cast<int64_t>(co) * g.cin + c) * b.taps + t] >= 0) continue;
        const int64_t bit = static_cast<int64_t>(t) * g.cin + c;
        row[bit >> 6] |= uint64_t{1} << (bit & 63);
        neg++;
      }
      wpc[co * b.taps + t] = neg;
    }
  }
}

// Transposes an 8x8 bit matrix held as 8 bytes (bit j of byte i <-> bit i of byte j).
inline uint64_t transpose8(uint64_t x) {
  x = (x & 0xAA55AA55AA55AA55ULL) | ((x & 0x00AA00AA00AA00AAULL) << 7) | ((x >> 7) & 0x00AA00AA00AA00AAULL);
  x = (x & 0xCCCC3333CCCC3333ULL) | ((x & 0x0000CCCC0000CCCCULL) << 14) | ((x >> 14) & 0x0000CCCC0000CCCCULL);
  return (x & 0xF0F0F0F00F0F0F0FULL) | ((x & 0x00000000F0F0F0F0ULL) << 28) | ((x >> 28) & 0x00000000F0F0F0F0ULL);
}

// Bit k set where s[k] < 0, for k < 8 (s needs 8 readable floats).
inline uint64_t negative_mask8(const float* s) {
#ifdef __AVX__
  return static_cast<uint64_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s), _mm256_setzero_ps(), _CMP_LT_OQ)));
#else
  uint64_t m = 0;
  for (int k = 0; k < 8; k++) m |= static_cast<uint64_t>(s[k] < 0.0f) << k;
  return m;
#endif
}

// xb[pixel][wc]: the sign bits of one image, channels last. For 8 pixels and
// 8 channels at a time, the 8 per-channel pixel masks form an 8x8 bit
// matrix whose transpose holds each pixel's 8 channel bits in one byte.
void pack_image(const ConvGeom& g, const BitGeom& b, const float* xn, uint64_t* xb) {
  const int64_t hw = static_cast<int64_t>(g.h) * g.w;
  int64_t p = 0;
  for (; p + 8 <= hw; p += 8) {
    for (int j = 0; j < b.wc; j++) {
      uint64_t v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int c0 = 64 * j; c0 < std::min(g.cin, 64 * j + 64); c0 += 8) {
        uint64_t m = 0;
        for (int c = c0; c < std::min(g.cin, c0 + 8); c++) m |= negative_mask8(xn + c * hw + p) << (8 * (c - c0));
        const uint64_t t = transpose8(m);
        for (int k = 0; k < 8; k++) v[k] |= ((t >> (8 * k)) & 0xFF) << (c0 - 64 * j);
      }
      for (int k = 0; k < 8; k++) xb[(p + k) * b.wc + j] = v[k];
    }
  }
  for (; p < hw; p++) {
    for (int j = 0; j < b.wc; j++) {
      uint64_t v = 0;
      for (int c = 64 * j; c < std::min(g.cin, 64 * j + 64); c++) v |= static_cast<uint64_t>(xn[c * hw + p] < 0.0f) << (c - 64 * j);
      xb[p * b.wc + j] = v;
    }
  }
}

// Per-block scratch: receptive fields, per-pixel valid bit counts, and the
// pixels whose window leaves the image.
struct Block {
  uint64_t* a;        // [kw64][kBlockPixels]: word j of every pixel's field, contiguous
  int32_t* kvalid;    // [np] cin * (taps inside the image)
  int32_t* counts;    // [cout][kBlockPixels] mismatches
  uint64_t* missing;  // [border] mask of taps outside the image
  int32_t* border;    // [border] pixel index in the block
  int nborder = 0;
};

// Writes one pixel's receptive field (column `col` of the block, stride
// kBlockPixels) from the window whose origin is pixel `base` of xb; taps
// with their `skip` bit set (outside the image) are left 0.
inline void put_field(const ConvGeom& g, const BitGeom& b, const uint64_t* xb, int64_t base,
                      uint64_t skip, uint64_t* col) {
  constexpr int ld = kBlockPixels;
  const int* off = b.off.data();
  const int* word = b.word.data();
  const int* shift = b.shift.data();
  if (b.subword) {
    // Each word is ORed together in a register and stored once.
    uint64_t cur = 0;
    int q = 0;
    for (int t = 0; t < b.taps; t++) {
      if (word[t] != q) {
        col[q * ld] = cur;
        cur = 0;
        q = word[t];
      }
      if (!((skip >> t) & 1)) cur |= xb[base + off[t]] << shift[t];
    }
    col[q * ld] = cur;
    for (q++; q < b.kw64; q++) col[q * ld] = 0;
    return;
  }
  if (b.aligned) {
    for (int t = 0; t < b.taps; t++) {
      const uint64_t* src = xb + (base + off[t]) * b.wc;
      uint64_t* dst = col + static_cast<int64_t>(word[t]) * ld;
      const bool out = (skip >> t) & 1;
      for (int j = 0; j < b.wc; j++) dst[j * ld] = out ? 0 : src[j];
    }
    return;
  }
  // Taps that straddle words: OR them in.
  for (int j = 0; j < b.kw64; j++) col[j * ld] = 0;
  for (int t = 0; t < b.taps; t++) {
    if ((skip >> t) & 1) continue;
    const uint64_t* src = xb + (base + off[t]) * b.wc;
    for (int j = 0; j < b.wc; j++) {
      const int64_t bit = (static_cast<int64_t>(word[t]) << 6) + shift[t] + 64 * j, q = bit >> 6;
      const int r = static_cast<int>(bit & 63), nb = std::min(64, g.cin - 64 * j);
      col[q * ld] |= src[j] << r;
      if (r != 0 && r + nb > 64) col[(q + 1) * ld] |= src[j] >> (64 - r);
    }
  }
}

// Gathers the receptive fields of output pixels [p0, p0 + np). Taps outside
// the image are skipped; the window is then addressed from its clamped
// origin only through taps that are inside.
void gather(const ConvGeom& g, const BitGeom& b, const uint64_t* xb, int p0, int np, Block& k) {
  const int ow = g.ow();
  k.nborder = 0;
  int oy = p0 / ow, ox = p0 % ow;
  for (int i = 0; i < np; i++, ox = ox + 1 == ow ? (oy++, 0) : ox + 1) {
    const int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
    uint64_t miss = 0;
    if (y0 < 0 || x0 < 0 || y0 + g.kh > g.h || x0 + g.kw > g.w) {
      for (int ky = 0, t = 0; ky < g.kh; ky++)
        for (int kx = 0; kx < g.kw; kx++, t++)
          if (y0 + ky < 0 || y0 + ky >= g.h || x0 + kx < 0 || x0 + kx >= g.w) miss |= uint64_t{1} << t;
      k.missing[k.nborder] = miss;
      k.border[k.nborder++] = i;
    }
    // A window origin outside the image is fine: only inside taps are read.
    put_field(g, b, xb, static_cast<int64_t>(y0) * g.w + x0, miss, k.a + i);
    k.kvalid[i] = (b.taps - __builtin_popcountll(miss)) * g.cin;
  }
  // Columns past np are read by the vector loops: keep them defined.
  for (int j = 0; j < b.kw64; j++)
    std::fill(k.a + j * kBlockPixels + np, k.a + (j + 1) * kBlockPixels, 0);
}

#if defined(__AVX2__) && !defined(__AVX512VPOPCNTDQ__)
// Byte-wise popcount (4-bit table lookups): the AVX2 substitute for a vector popcount.
inline __m256i popcount_bytes(__m256i v) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

// counts[co][i] = popcount(field_i XOR w_co) for 16 pixels at a time: byte
// counters (at most 8 per word, so 31 words fit in a byte) summed to 64-bit
// lanes by vpsadbw.
void count_mismatches(const ConvGeom& g, const BitGeom& b, const uint64_t* wb, int np, Block& k) {
  constexpr int ld = kBlockPixels;
  const __m256i zero = _mm256_setzero_si256();
  const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  for (int co = 0; co < g.cout; co++) {
    const uint64_t* w = wb + static_cast<int64_t>(co) * b.kw64;
    int32_t* cnt = k.counts + static_cast<int64_t>(co) * ld;
    for (int i0 = 0; i0 < np; i0 += 16) {
      __m256i s[4] = {zero, zero, zero, zero}, c[4] = {zero, zero, zero, zero};
      for (int j = 0; j < b.kw64; j++) {
        const __m256i wv = _mm256_set1_epi64x(static_cast<long long>(w[j]));
        const uint64_t* aj = k.a + j * ld + i0;
        for (int q = 0; q < 4; q++) {
          const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(aj + 4 * q)), wv);
          c[q] = _mm256_add_epi8(c[q], popcount_bytes(v));
        }
        if (j % 31 == 30) {
          for (int q = 0; q < 4; q++) { s[q] = _mm256_add_epi64(s[q], _mm256_sad_epu8(c[q], zero)); c[q] = zero; }
        }
      }
      for (int q = 0; q < 4; q++) {
        s[q] = _mm256_add_epi64(s[q], _mm256_sad_epu8(c[q], zero));
        // The low halves of the four 64-bit sums, as int32.
        _mm_storeu_si128(reinterpret_cast<__m128i*>(cnt + i0 + 4 * q),
                         _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(s[q], pick)));
      }
    }
  }
}
#else
// Plain loops over pixels; compilers turn them into vpopcntq where AVX-512
// VPOPCNTDQ exists.
void count_mismatches(const ConvGeom& g, const BitGeom& b, const uint64_t* wb, int np, Block& k) {
  constexpr int ld = kBlockPixels;
  for (int co = 0; co < g.cout; co++) {
    const uint64_t* w = wb + static_cast<int64_t>(co) * b.kw64;
    int32_t* cnt = k.counts + static_cast<int64_t>(co) * ld;
    for (int i = 0; i < ld; i++) cnt[i] = 0;
    for (int j = 0; j < b.kw64; j++) {
      const uint64_t wv = w[j], *aj = k.a + j * ld;
      for (int i = 0; i < ld; i++) cnt[i] += static_cast<int32_t>(popcount(aj[i] ^ wv));
    }
  }
  (void)np;
}
#endif

// y[co][p0 + i] = scale * (valid bits - 2 * mismatches) + bias. Taps on the
// padding were 0 bits and counted each -1 weight of the tap as a mismatch:
// border pixels take those out and are then written again.
void write_outputs(const ConvGeom& g, const BitGeom& b, const int32_t* wpc, const float* scales,
                   const float* bias, int np, const Block& k, float* y, int64_t plane, int p0) {
  for (int co = 0; co < g.cout; co++) {
    const int32_t* cnt = k.counts + static_cast<int64_t>(co) * kBlockPixels;
    const int32_t* wrow = wpc + co * b.taps;
    float* yr = y + co * plane + p0;
    const float s = scales[co], bv = bias ? bias[co] : 0.0f;
    // One rounding with a bias (fma), as the reference computes it.
    auto out = [&](int i, int m) {
      const float count = static_cast<float>(k.kvalid[i] - 2 * m);
      return bias ? std::fma(s, count, bv) : s * count;
    };
    for (int i = 0; i < np; i++) yr[i] = out(i, cnt[i]);
    for (int e = 0; e < k.nborder; e++) {
      const int i = k.border[e];
      int m = cnt[i];
      for (uint64_t t = k.missing[e]; t; t &= t - 1) m -= wrow[__builtin_ctzll(t)];
      yr[i] = out(i, m);
    }
  }
}

}  // namespace

void xnor_conv2d_forward(const ConvGeom& g, const float* x, const int8_t* codes, const float* scales,
                         const float* bias, float* y) {
  const int P = g.oh() * g.ow();
  if (g.n == 0 || g.cout == 0 || P == 0) return;
  const BitGeom b(g);
  std::vector<uint64_t> wb(static_cast<size_t>(g.cout) * b.kw64);
  std::vector<int32_t> wpc(static_cast<size_t>(g.cout) * b.taps);
  pack_weights(g, b, codes, wb.data(), wpc.data());

  const int64_t hw = static_cast<int64_t>(g.h) * g.w, xs = g.cin * hw, ys = static_cast<int64_t>(g.cout) * P;
  const int nblk = (P + kBlockPixels - 1) / kBlockPixels;
  const int64_t flops = 2LL * g.n * g.cout * g.cin * b.taps * P / 32;  // ~32x cheaper than float
  const int nth = threads_for(flops, 4000000);
  // Whole images per task when the batch keeps the threads busy, else
  // (image, pixel block) pairs.
  const bool whole = nth <= 1 || g.n >= 2 * nth;
  // Scratch comes in floats; lay the block's buffers out in 64-bit words.
  const size_t block_words = static_cast<size_t>(kBlockPixels) * (b.kw64 + 2) +
                             (static_cast<size_t>(g.cout) * kBlockPixels + 1) / 2 + kBlockPixels;
  reserve_scratch(kScratchPad, nth, 2 * static_cast<size_t>(hw) * b.wc);
  reserve_scratch(kScratchCol, nth, 2 * block_words);
  std::vector<int64_t> packed(nth, -1);  // image each thread's bit buffer holds

  const int64_t tasks = whole ? g.n : static_cast<int64_t>(g.n) * nblk;
  parallel_dynamic(nth, tasks, [&](int tid, int64_t t) {
    const int64_t img = whole ? t : t / nblk;
    const int b0 = whole ? 0 : static_cast<int>(t % nblk), b1 = whole ? nblk : b0 + 1;
    uint64_t* xb = reinterpret_cast<uint64_t*>(scratch(kScratchPad, tid));
    uint64_t* words = reinterpret_cast<uint64_t*>(scratch(kScratchCol, tid));
    Block k;
    k.a = words;
    k.missing = k.a + static_cast<size_t>(kBlockPixels) * b.kw64;
    k.border = reinterpret_cast<int32_t*>(k.missing + kBlockPixels);
    k.kvalid = k.border + kBlockPixels;
    k.counts = k.kvalid + kBlockPixels;  // 32-byte aligned: kBlockPixels is a multiple of 8
    if (packed[tid] != img) {
      pack_image(g, b, x + img * xs, xb);
      packed[tid] = img;
    }
    for (int blk = b0; blk < b1; blk++) {
      const int p0 = blk * kBlockPixels, np = std::min(kBlockPixels, P - p0);
      gather(g, b, xb, p0, np, k);
      count_mismatches(g, b, wb.data(), np, k);
      write_outputs(g, b, wpc.data(), scales, bias, np, k, y + img * ys, P, p0);
    }
  });
}

}  // namespace eb
