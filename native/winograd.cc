// 3x3 stride-1 convolution by Winograd F(m x m, 3 x 3), m = 4 or 2: the
// forward pass, and the weight gradient (its adjoint, at the end of the file).
//
// Each m x m block of outputs (a tile) is computed from the n x n input
// patch d around it (n = m + 2):
//   Y = A^T [ sum_ci (G g G^T) (.) (B^T d B) ] A
// where (.) is the elementwise product of n x n matrices. The sum over input
// channels of those products is n^2 independent GEMMs, one per position xi:
//   M[xi][cout, tiles] = U[xi][cout, cin] x V[xi][cin, tiles]
// with U = G g G^T (the weights, transformed once per call) and V = B^T d B
// (the input tiles). Per output and (ci, co) pair that is n^2 / m^2
// multiply-adds instead of 9: 2.25 for F(4x4), 4 for F(2x2). F(4x4) has
// fewer flops and moves less data per output (n^2 / m^2 floats of V and M)
// but 4x fewer tiles per image than F(2x2), so F(2x2) takes over when a
// batch of small images has too few tiles to fill the GEMMs.
//
// Work is split in blocks: a range of images times a range of tile rows of
// each. A block is transformed into V, multiplied into M and transformed
// back into y by one thread with its own scratch; blocks do not overlap in
// y and their boundaries do not depend on which thread ran them, so the
// result does not depend on scheduling.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace eb {
namespace {

// Tiles per block: the GEMMs' N. About the best measured over 64..512
// channels: bigger blocks amortise OpenBLAS's packing of U[xi] (once per
// GEMM, ~cin * cout) better, smaller ones keep V and M (n^2 (cin + cout)
// floats per tile) closer to the core.
constexpr int kTargetTiles = 128;

// Measured against im2col (2 threads, 3x3 pad 1): Winograd wins from 8
// channels in and out at 8x8..32x32 (16->16 @32x32 is ~1.6x faster, 8->8
// ~1.4x), loses at 3 or 4 input channels (a first layer on RGB).
constexpr int kMinChannels = 8;

// The transforms' vector lanes are images (see below): fewer than that
// many leaves lanes empty, and im2col is faster.
constexpr int kMinBatch = 8;

// Tiles per thread below which a variant's GEMMs are too narrow (or its
// weight transform, once per call, too costly). F(4x4) beats F(2x2) from
// about 192 per thread, F(2x2) beats im2col from about 64.
constexpr int64_t kMinTilesF4 = 192;
constexpr int64_t kMinTilesF2 = 64;

// EQUALBITS_WINOGRAD=0 turns the Winograd path off, for comparisons.
bool enabled() {
  static const bool on = [] {
    const char* v = std::getenv("EQUALBITS_WINOGRAD");
    return !(v && v[0] == '0' && v[1] == '\0');
  }();
  return on;
}

// ---- vectors ---------------------------------------------------------------
// The transforms work on the same tile of 8 images at once, one image per
// lane of a vector of the GCC/Clang vector extensions (an AVX register on
// x86): every tile is then whole vectors, whatever the image size (an 8x8
// output has only 2x2 tiles of 4x4, too few to vectorise along a row). The
// input planes are transposed into that layout, 8x8 floats at a time, and
// the outputs transposed back.
typedef float f8 __attribute__((vector_size(32)));
constexpr int kLanes = 8;

// Unaligned loads and stores, and partial ones of the first k lanes (the
// rest read as zeros).
inline f8 load(const float* p) {
  f8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, f8 v) { std::memcpy(p, &v, sizeof v); }
inline f8 load(const float* p, int k) {
  f8 v = {};
  std::memcpy(&v, p, sizeof(float) * k);
  return v;
}
inline void store(float* p, f8 v, int k) { std::memcpy(p, &v, sizeof(float) * k); }

// Transposes the 8x8 matrix r (r[i] = row i) in place.
inline void transpose8(f8* r) {
  f8 t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4) {
    s[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    s[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    s[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    s[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = __builtin_shufflevector(s[i], s[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    r[i + 4] = __builtin_shufflevector(s[i], s[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// ---- the 1-D transforms ------------------------------------------------------
// The 2-D transforms are separable: the 1-D one down every column, then
// along every row. Both variants come from Toom-Cook interpolation at the
// points listed (and infinity); the fractions are moved into G, which is
// applied once per call in double, so that B^T and A^T, applied to every
// tile in float, have small integer entries.

// F(2, 3), points 0, 1, -1:
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
struct F2 {
  static constexpr int m = 2, n = 4;
  template <class D>
  static void filter(const D* g, D* u) {
    u[0] = g[0];
    u[1] = (g[0] + g[1] + g[2]) * 0.5;
    u[2] = (g[0] - g[1] + g[2]) * 0.5;
    u[3] = g[2];
  }
  template <class V>
  static void input(const V* d, V* v) {
    v[0] = d[0] - d[2];
    v[1] = d[1] + d[2];
    v[2] = d[2] - d[1];
    v[3] = d[1] - d[3];
  }
  template <class V>
  static void output(const V* s, V* y) {
    y[0] = s[0] + s[1] + s[2];
    y[1] = s[1] - s[2] - s[3];
  }
  // The transposes, for the weight gradient: s = A y and g = G^T u.
  template <class V>
  static void output_adjoint(const V* y, V* s) {
    s[0] = y[0];
    s[1] = y[0] + y[1];
    s[2] = y[0] - y[1];
    s[3] = -y[1];
  }
  template <class D>
  static void filter_adjoint(const D* u, D* g) {
    g[0] = u[0] + (u[1] + u[2]) * 0.5;
    g[1] = (u[1] - u[2]) * 0.5;
    g[2] = (u[1] + u[2]) * 0.5 + u[3];
  }
};

// F(4, 3), points 0, 1, -1, 2, -2:
//   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;
//          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0 4  0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
//          1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// About 10x the rounding error of F(2, 3) (|B^T| and |A^T| reach 5 and 8),
// still ~1e-5 of the outputs for a few hundred channels.
struct F4 {
  static constexpr int m = 4, n = 6;
  template <class D>
  static void filter(const D* g, D* u) {
    u[0] = g[0] / 4.0;
    u[1] = -(g[0] + g[1] + g[2]) / 6.0;
    u[2] = -(g[0] - g[1] + g[2]) / 6.0;
    u[3] = g[0] / 24.0 + g[1] / 12.0 + g[2] / 6.0;
    u[4] = g[0] / 24.0 - g[1] / 12.0 + g[2] / 6.0;
    u[5] = g[2];
  }
  template <class V>
  static void input(const V* d, V* v) {
    const V s12 = d[1] + d[2], d12 = d[1] - d[2], s34 = d[3] + d[4], d43 = d[4] - d[3];
    const V d31 = d[3] - d[1], d42 = d[4] - d[2];
    v[0] = d[0] * 4.0f - d[2] * 5.0f + d[4];
    v[1] = s34 - s12 * 4.0f;
    v[2] = d43 + d12 * 4.0f;
    v[3] = d42 + d31 * 2.0f;
    v[4] = d42 - d31 * 2.0f;
    v[5] = d[1] * 4.0f - d[3] * 5.0f + d[5];
  }
  template <class V>
  static void output(const V* s, V* y) {
    const V s12 = s[1] + s[2], d12 = s[1] - s[2], s34 = s[3] + s[4], d34 = s[3] - s[4];
    y[0] = s[0] + s12 + s34;
    y[1] = d12 + d34 * 2.0f;
    y[2] = s12 + s34 * 4.0f;
    y[3] = d12 + d34 * 8.0f + s[5];
  }
  template <class V>
  static void output_adjoint(const V* y, V* s) {
    const V e = y[0] + y[2], o = y[1] + y[3], e4 = y[0] + y[2] * 4.0f, o4 = y[1] * 2.0f + y[3] * 8.0f;
    s[0] = y[0];
    s[1] = e + o;
    s[2] = e - o;
    s[3] = e4 + o4;
    s[4] = e4 - o4;
    s[5] = y[3];
  }
  template <class D>
  static void filter_adjoint(const D* u, D* g) {
    const D s12 = u[1] + u[2], s34 = u[3] + u[4];
    g[0] = u[0] / 4.0 - s12 / 6.0 + s34 / 24.0;
    g[1] = (u[2] - u[1]) / 6.0 + (u[3] - u[4]) / 12.0;
    g[2] = (s34 - s12) / 6.0 + u[5];
  }
};

// ---- layout --------------------------------------------------------------------

constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Tiles, blocks and buffer sizes of one call. A block is a range of images
// (8 per group of lanes) times a range of tile rows of each. Its tiles are
// ordered group by group, then tile by tile, then image by image (the
// lanes); the GEMMs do not care, and the order makes every tile of a group
// one vector in V and M.
template <class W>
struct Plan {
  static constexpr int m = W::m, n = W::n, nxi = n * n;
  int oh, ow;
  int th, tw;             // tiles per image down / across
  int R, I;               // tile rows and images per block
  int64_t row_blocks, blocks;
  int pwid;               // width of a padded input row: the columns the tiles cover
  int T;                  // tiles in a full block
  int64_t vs, ms;         // xi strides of V and M
  Plan(const ConvGeom& g, int nth, int target = kTargetTiles) {
    oh = g.oh();
    ow = g.ow();
    th = static_cast<int>(ceil_div(oh, m));
    tw = static_cast<int>(ceil_div(ow, m));
    const int group = std::min(g.n, kLanes);
    if (group * th * tw >= target) {  // big images: one group, part of their rows
      I = group;
      R = static_cast<int>(std::clamp<int64_t>((target + group * tw / 2) / (group * tw), 1, th));
    } else {  // small ones: whole images, as many groups as fit
      R = th;
      I = kLanes * static_cast<int>(std::max<int64_t>(1, (target + 4 * th * tw) / (kLanes * th * tw)));
      I = std::min(I, g.n);
    }
    // Two blocks per thread at least, so that a thread slowed down by
    // another process can leave work to the others (as fast as one per
    // thread on a quiet machine, for 8x8 images at batch 128).
    for (;;) {
      row_blocks = ceil_div(th, R);
      blocks = ceil_div(g.n, I) * row_blocks;
      if (blocks >= 2 * nth) break;
      if (I > kLanes) I = kLanes * static_cast<int>(ceil_div(I / 2, kLanes));
      else if (R > 1) R = (R + 1) / 2;
      else break;
    }
    R = static_cast<int>(ceil_div(th, row_blocks));  // even row blocks
    pwid = m * tw + 2;
    T = I * R * tw;
    // A cache line more than the matrices' size, so that the n^2 streams the
    // transforms read or write do not all map to the same cache sets.
    vs = static_cast<int64_t>(g.cin) * T + 16;
    ms = static_cast<int64_t>(g.cout) * T + 16;
  }
  // Transposed input rows and output rows of one group of a block.
  size_t in_size() const { return static_cast<size_t>(m * R + 2) * pwid * kLanes; }
  size_t out_size() const { return static_cast<size_t>(m * R) * m * tw * kLanes; }
  // Per-thread scratch: V; M, then the transposed rows (from a cache line).
  size_t v_size() const { return static_cast<size_t>(nxi * vs); }
  int64_t rows_offset() const { return ceil_div(nxi * ms, 16) * 16; }
  size_t m_size() const { return static_cast<size_t>(rows_offset()) + std::max(in_size(), out_size()); }
};

// ---- weights -------------------------------------------------------------------

// U[xi][co][ci] = (G g G^T)[xi] for every filter g = w[co][ci]. In double,
// rounded once, 4 filters at a time (d4 lanes). A chunk of input channels
// is computed into a small buffer, then copied out row by row: writing the
// n^2 entries of each filter straight to their n^2 matrices, cout * cin
// floats apart, thrashes the cache sets.
typedef double d4 __attribute__((vector_size(32)));

template <class W>
void transform_weights(const ConvGeom& g, const float* w, float* u) {
  constexpr int n = W::n, nxi = n * n, chunk = 64;
  const int64_t plane = packed_a_size(g.cout, g.cin);
  if (g.cout % kMr != 0) std::memset(u, 0, sizeof(float) * nxi * plane);  // the last panel's padding rows
  parallel_for(g.cout, std::max<int64_t>(1, 4096 / std::max(g.cin, 1)), [&](int64_t c0, int64_t c1) {
    alignas(32) float buf[nxi][chunk];
    for (int64_t co = c0; co < c1; co++) {
      for (int ci0 = 0; ci0 < g.cin; ci0 += chunk) {
        const int len = std::min(chunk, g.cin - ci0);
        const float* k = w + (co * g.cin + ci0) * 9;
        for (int c = 0; c < len; c += 4) {
          d4 tap[9];  // tap j of filters c .. c + 3 (zeros past the end)
          for (int j = 0; j < 9; j++)
            for (int l = 0; l < 4; l++) tap[j][l] = c + l < len ? k[(c + l) * 9 + j] : 0.0;
          d4 gg[n][3];  // G g: down the columns of g
          for (int j = 0; j < 3; j++) {
            const d4 col[3] = {tap[j], tap[3 + j], tap[6 + j]};
            d4 out[n];
            W::filter(col, out);
            for (int i = 0; i < n; i++) gg[i][j] = out[i];
          }
          for (int i = 0; i < n; i++) {  // (G g) G^T: along its rows
            d4 out[n];
            W::filter(gg[i], out);
            for (int j = 0; j < n; j++) {
              const auto f = __builtin_convertvector(out[j], float __attribute__((vector_size(16))));
              std::memcpy(&buf[i * n + j][c], &f, sizeof f);
            }
          }
        }
        for (int xi = 0; xi < nxi; xi++) {  // into U[xi]'s panel layout: ci at a stride of kMr
          float* dst = u + xi * plane + packed_a_index(static_cast<int>(co), ci0, g.cin);
          for (int c = 0; c < len; c++) dst[c * kMr] = buf[xi][c];
        }
      }
    }
  });
}

// ---- input transform -------------------------------------------------------------

// One group of k <= 8 images, starting at image `img`: the planes of input
// channel ci, or of output channel co.
struct Group {
  int64_t img;
  int k;
};

// Padded input rows [r0, r1) of channel ci of a group (padded row r = input
// row r - ph, padded column c = input column c - pw), transposed so that
// d[(r - r0) * pwid + c] is the vector of that pixel in the group's images.
// Outside the image (padding, tiles that overhang it, missing lanes): zeros.
template <class W>
void load_rows(const ConvGeom& g, const Plan<W>& p, const float* x, Group grp, int ci, int r0, int r1,
               float* d) {
  const int64_t plane = static_cast<int64_t>(g.h) * g.w;
  const float* src[kLanes];
  for (int b = 0; b < grp.k; b++) src[b] = x + ((grp.img + b) * g.cin + ci) * plane;
  const f8 zero = {};
  for (int r = r0; r < r1; r++) {
    float* dr = d + static_cast<int64_t>(r - r0) * p.pwid * kLanes;
    const int iy = r - g.ph;
    if (iy < 0 || iy >= g.h) {
      for (int c = 0; c < p.pwid; c++) store(dr + c * kLanes, zero);
      continue;
    }
    for (int c = 0; c < g.pw; c++) store(dr + c * kLanes, zero);
    for (int c = g.pw + g.w; c < p.pwid; c++) store(dr + c * kLanes, zero);
    const int64_t off = static_cast<int64_t>(iy) * g.w;
    float* di = dr + g.pw * kLanes;
    int ix = 0;
    for (; ix + kLanes <= g.w; ix += kLanes) {
      f8 rows[kLanes];
      for (int b = 0; b < kLanes; b++) rows[b] = b < grp.k ? load(src[b] + off + ix) : zero;
      transpose8(rows);
      for (int j = 0; j < kLanes; j++) store(di + (ix + j) * kLanes, rows[j]);
    }
    for (; ix < g.w; ix++) {
      f8 v = zero;
      for (int b = 0; b < grp.k; b++) v[b] = src[b][off + ix];
      store(di + ix * kLanes, v);
    }
  }
}

// B^T d B for one tile of the group: d is the tile's top-left pixel in the
// transposed rows, v its first entry in V.
template <class W>
void input_tile(const Plan<W>& p, const float* d, int k, float* v) {
  constexpr int n = W::n;
  f8 rows[n][n];  // B^T down the columns
  for (int j = 0; j < n; j++) {
    f8 col[n], out[n];
    for (int i = 0; i < n; i++) col[i] = load(d + (i * p.pwid + j) * kLanes);
    W::input(col, out);
    for (int i = 0; i < n; i++) rows[i][j] = out[i];
  }
  for (int i = 0; i < n; i++) {  // then B along each row
    f8 out[n];
    W::input(rows[i], out);
    for (int j = 0; j < n; j++) {
      if (k == kLanes) store(v + (i * n + j) * p.vs, out[j]);
      else store(v + (i * n + j) * p.vs, out[j], k);
    }
  }
}

// ---- output transform ------------------------------------------------------------

// A^T M A plus the bias for one tile of the group: mt is its first entry in
// M, yt its top-left pixel in the transposed output rows (m * tw wide).
template <class W>
void output_tile(const Plan<W>& p, const float* mt, int k, float bias, float* yt) {
  constexpr int m = W::m, n = W::n;
  const int width = m * p.tw;
  f8 cols[m][n];  // A^T down the columns
  for (int j = 0; j < n; j++) {
    f8 s[n], out[m];
    for (int i = 0; i < n; i++) {
      const float* src = mt + (i * n + j) * p.ms;
      s[i] = k == kLanes ? load(src) : load(src, k);
    }
    W::output(s, out);
    for (int a = 0; a < m; a++) cols[a][j] = out[a];
  }
  for (int a = 0; a < m; a++) {  // then A along each row
    f8 out[m];
    W::output(cols[a], out);
    for (int b = 0; b < m; b++) store(yt + (a * width + b) * kLanes, out[b] + bias);
  }
}

// Output rows [oy0, oy1) of channel co of a group from the transposed rows
// t (the inverse of load_rows). Tiles that overhang the output are cut.
void store_rows(const ConvGeom& g, int oh, int ow, int width, const float* t, Group grp, int co, int oy0,
                int oy1, float* y) {
  const int64_t plane = static_cast<int64_t>(oh) * ow;
  float* dst[kLanes];
  for (int b = 0; b < grp.k; b++) dst[b] = y + ((grp.img + b) * g.cout + co) * plane;
  for (int oy = oy0; oy < oy1; oy++) {
    const float* tr = t + static_cast<int64_t>(oy - oy0) * width * kLanes;
    const int64_t off = static_cast<int64_t>(oy) * ow;
    int ox = 0;
    for (; ox + kLanes <= ow; ox += kLanes) {
      f8 cols[kLanes];
      for (int j = 0; j < kLanes; j++) cols[j] = load(tr + (ox + j) * kLanes);
      transpose8(cols);
      for (int b = 0; b < grp.k; b++) store(dst[b] + off + ox, cols[b]);
    }
    for (; ox < ow; ox++) {
      const f8 v = load(tr + ox * kLanes);
      for (int b = 0; b < grp.k; b++) dst[b][off + ox] = v[b];
    }
  }
}

// ---- blocks ------------------------------------------------------------------------

// V of one block (images [i0, i1) x tile rows [ty0, ty1), T tiles), with t
// as room for the transposed rows of one group.
template <class W>
void transform_input_block(const ConvGeom& g, const Plan<W>& p, const float* x, int64_t i0, int64_t i1, int ty0,
                           int ty1, int T, float* v, float* t) {
  constexpr int m = W::m;
  const int rows = ty1 - ty0, group_tiles = rows * p.tw;  // tiles of one image in the block
  for (int64_t img = i0; img < i1; img += kLanes) {
    const Group grp{img, static_cast<int>(std::min<int64_t>(kLanes, i1 - img))};
    const int64_t base = (img - i0) * group_tiles;  // the group's first tile
    for (int ci = 0; ci < g.cin; ci++) {
      load_rows(g, p, x, grp, ci, m * ty0, m * ty1 + 2, t);
      float* vc = v + static_cast<int64_t>(ci) * T + base;
      for (int ty = 0; ty < rows; ty++)
        for (int tx = 0; tx < p.tw; tx++)
          input_tile(p, t + (static_cast<int64_t>(m * ty) * p.pwid + m * tx) * kLanes, grp.k,
                     vc + static_cast<int64_t>(ty * p.tw + tx) * grp.k);
    }
  }
}

// One block: images [i0, i1) x tile rows [ty0, ty1). v, mm: the thread's V
// and M, followed by room for the transposed rows of one group.
template <class W>
void run_block(const ConvGeom& g, const Plan<W>& p, const float* x, const float* u, const float* bias,
               float* y, int64_t i0, int64_t i1, int ty0, int ty1, float* v, float* mm) {
  constexpr int m = W::m, nxi = W::n * W::n;
  const int rows = ty1 - ty0, group_tiles = rows * p.tw;
  const int T = static_cast<int>((i1 - i0) * group_tiles);
  float* t = mm + p.rows_offset();
  const int width = m * p.tw;
  transform_input_block(g, p, x, i0, i1, ty0, ty1, T, v, t);
  const int64_t uplane = packed_a_size(g.cout, g.cin);
  for (int xi = 0; xi < nxi; xi++)
    gemm_packed_a(g.cout, T, g.cin, u + xi * uplane, v + xi * p.vs, T, mm + xi * p.ms, T);
  const int oy0 = m * ty0, oy1 = std::min(p.oh, m * ty1);
  for (int64_t img = i0; img < i1; img += kLanes) {
    const Group grp{img, static_cast<int>(std::min<int64_t>(kLanes, i1 - img))};
    const int64_t base = (img - i0) * group_tiles;
    for (int co = 0; co < g.cout; co++) {
      const float b = bias ? bias[co] : 0.0f;
      const float* mc = mm + static_cast<int64_t>(co) * T + base;
      for (int ty = 0; ty < rows; ty++)
        for (int tx = 0; tx < p.tw; tx++)
          output_tile(p, mc + static_cast<int64_t>(ty * p.tw + tx) * grp.k, grp.k, b,
                      t + (static_cast<int64_t>(m * ty) * width + m * tx) * kLanes);
      store_rows(g, p.oh, p.ow, width, t, grp, co, oy0, oy1, y);
    }
  }
}

template <class W>
void forward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y) {
  const int nth = conv_threads(g);
  const Plan<W> p(g, nth);
  float* u = reserve_scratch(kScratchWinogradWeights, 1, Plan<W>::nxi * packed_a_size(g.cout, g.cin));
  transform_weights<W>(g, w, u);
  // V in the im2col column slot, M and the row buffers in the padding slot:
  // the two paths never run at once, and sharing keeps the peak memory down.
  reserve_scratch(kScratchCol, nth, p.v_size());
  reserve_scratch(kScratchPad, nth, p.m_size());
  parallel_dynamic(nth, p.blocks, [&](int tid, int64_t b) {
    const int64_t i0 = b / p.row_blocks * p.I, i1 = std::min<int64_t>(g.n, i0 + p.I);
    const int ty0 = static_cast<int>(b % p.row_blocks) * p.R, ty1 = std::min(p.th, ty0 + p.R);
    run_block(g, p, x, u, bias, y, i0, i1, ty0, ty1, scratch(kScratchCol, tid), scratch(kScratchPad, tid));
  });
}

// ---- weight gradient -------------------------------------------------------------
// The adjoint of the forward pass. With dM = A dY A^T for each m x m tile dY
// of the output gradient (the transpose of the output transform) and V the
// same input tiles as above,
//   dU[xi][cout, cin] = sum over tiles dM[xi][cout, tiles] x V[xi][cin, tiles]^T
// (n^2 GEMMs whose inner dimension is the tiles), and dg = G^T dU G per
// filter. Tiles that overhang the output read dY = 0, so they add nothing.

// dM of one block: the output gradient's tiles, transformed into mm's layout
// (the layout of M above). t: room for the transposed rows of one group.
template <class W>
void transform_grad_block(const ConvGeom& g, const Plan<W>& p, const float* dy, int64_t i0, int64_t i1, int ty0,
                          int ty1, int T, float* mm, float* t) {
  constexpr int m = W::m, n = W::n;
  // dy read as an unpadded input of cout channels, so that load_rows
  // transposes its rows and zeroes what lies past the output.
  ConvGeom gd = g;
  gd.cin = g.cout;
  gd.h = p.oh;
  gd.w = p.ow;
  gd.ph = gd.pw = 0;
  const int rows = ty1 - ty0, group_tiles = rows * p.tw;
  for (int64_t img = i0; img < i1; img += kLanes) {
    const Group grp{img, static_cast<int>(std::min<int64_t>(kLanes, i1 - img))};
    const int64_t base = (img - i0) * group_tiles;
    for (int co = 0; co < g.cout; co++) {
      load_rows(gd, p, dy, grp, co, m * ty0, m * ty1, t);
      float* mc = mm + static_cast<int64_t>(co) * T + base;
      for (int ty = 0; ty < rows; ty++)
        for (int tx = 0; tx < p.tw; tx++) {
          const float* d = t + (static_cast<int64_t>(m * ty) * p.pwid + m * tx) * kLanes;
          float* out = mc + static_cast<int64_t>(ty * p.tw + tx) * grp.k;
          f8 cols[n][m];  // A down the columns, then along the rows
          for (int b = 0; b < m; b++) {
            f8 col[m], s[n];
            for (int a = 0; a < m; a++) col[a] = load(d + (a * p.pwid + b) * kLanes);
            W::output_adjoint(col, s);
            for (int i = 0; i < n; i++) cols[i][b] = s[i];
          }
          for (int i = 0; i < n; i++) {
            f8 s[n];
            W::output_adjoint(cols[i], s);
            for (int j = 0; j < n; j++) {
              if (grp.k == kLanes) store(out + (i * n + j) * p.ms, s[j]);
              else store(out + (i * n + j) * p.ms, s[j], grp.k);
            }
          }
        }
    }
  }
}

// dw[co][ci] = G^T dU[.][co][ci] G for the filters of output channels
// [co0, co1), in double, rounded once. A chunk of input channels is copied
// out of the n^2 planes first: reading n^2 streams cout * cin floats apart
// thrashes the cache sets.
template <class W>
void untransform_weights(const ConvGeom& g, int64_t co0, int64_t co1, const float* du, float* dw) {
  constexpr int n = W::n, nxi = n * n, chunk = 64;
  const int64_t plane = static_cast<int64_t>(g.cout) * g.cin;
  alignas(32) float buf[nxi][chunk];
  for (int64_t co = co0; co < co1; co++) {
    for (int ci0 = 0; ci0 < g.cin; ci0 += chunk) {
      const int len = std::min(chunk, g.cin - ci0);
      for (int xi = 0; xi < nxi; xi++)
        std::memcpy(buf[xi], du + xi * plane + static_cast<int64_t>(co) * g.cin + ci0, sizeof(float) * len);
      for (int c = 0; c < len; c++) {
        double gu[3][n];  // G^T down the columns of dU
        for (int j = 0; j < n; j++) {
          double col[n], out[3];
          for (int i = 0; i < n; i++) col[i] = buf[i * n + j][c];
          W::filter_adjoint(col, out);
          for (int r = 0; r < 3; r++) gu[r][j] = out[r];
        }
        float* k = dw + (static_cast<int64_t>(co) * g.cin + ci0 + c) * 9;
        for (int r = 0; r < 3; r++) {  // then G along its rows
          double out[3];
          W::filter_adjoint(gu[r], out);
          for (int q = 0; q < 3; q++) k[r * 3 + q] = static_cast<float>(out[q]);
        }
      }
    }
  }
}

// Two ways to share the work between threads, both giving dW the same bits
// on any thread count (that picks the same tile size):
// - Small layers: slots, fixed ranges of image blocks (planned as for one
//   thread). A slot accumulates its own dU on one thread, turns it into a dW
//   partial, and the partials are added in slot order. The partials (9 cout
//   cin floats each) are capped at ~16 MB, but at least 2 slots, and an even
//   count, which shares out evenly between the 2 threads of the project's
//   machines.
// - Big layers, where one dU (n^2 cout cin floats) passes kMaxGradBytes: by
//   position. Every thread transforms every block and runs the GEMMs of its
//   own range of the n^2 positions into one shared dU, so there is one dU
//   (~38 MB at 512->512) instead of one per thread, and no partials. The
//   transforms done twice cost ~1% of the flops from 128 channels.
constexpr int kMaxWeightSlots = 16;
constexpr int64_t kMaxPartialBytes = 16LL << 20, kMaxGradBytes = 4LL << 20;

int weight_slots(int64_t image_blocks, int64_t wsize) {
  int64_t s = std::min<int64_t>({image_blocks, kMaxWeightSlots, std::max<int64_t>(2, kMaxPartialBytes / (wsize * 4))});
  if (s > 2 && s % 2) s--;
  return static_cast<int>(std::max<int64_t>(1, s));
}

// Tiles per block: longer sums (the GEMMs' inner dimension) pay from 128
// channels, but V and dM (n^2 tiles (cin + cout) floats per thread) then
// double; past 512 channels in all that costs VGG-Small's 512-channel layers
// ~18 MB of peak memory for little speed. Below 128 channels longer blocks
// leave too few image blocks to share out (measured, batch 128).
int weight_block_tiles(const ConvGeom& g) {
  return std::min(g.cin, g.cout) >= 128 && g.cin + g.cout <= 512 ? 2 * kTargetTiles : kTargetTiles;
}

// The GEMMs of one block for positions [x0, x1), accumulated into du
// (overwriting it for the first block).
template <class W>
void accumulate_block(const ConvGeom& g, const Plan<W>& p, int T, int x0, int x1, const float* v, const float* mm,
                      bool first, float* du) {
  for (int xi = x0; xi < x1; xi++)
    sgemm_serial(false, true, g.cout, g.cin, T, 1.0f, mm + xi * p.ms, T, v + xi * p.vs, T, first ? 0.0f : 1.0f,
                 du + static_cast<int64_t>(xi) * g.cout * g.cin, g.cin);
}

// Calls f(T, v, mm, first) for every block of image blocks [b0, b1) in
// order, with V and dM of the block in the thread's v and mm (first: the
// first of them, whose GEMMs overwrite dU).
template <class W, class F>
void for_each_block(const ConvGeom& g, const Plan<W>& p, const float* x, const float* dy, int64_t b0, int64_t b1,
                    int tid, F f) {
  float *v = scratch(kScratchCol, tid), *mm = scratch(kScratchPad, tid);
  float* t = mm + p.rows_offset();
  for (int64_t ib = b0; ib < b1; ib++) {
    const int64_t i0 = ib * p.I, i1 = std::min<int64_t>(g.n, i0 + p.I);
    for (int ty0 = 0; ty0 < p.th; ty0 += p.R) {
      const int ty1 = std::min(p.th, ty0 + p.R);
      const int T = static_cast<int>((i1 - i0) * (ty1 - ty0) * p.tw);
      transform_input_block(g, p, x, i0, i1, ty0, ty1, T, v, t);
      transform_grad_block(g, p, dy, i0, i1, ty0, ty1, T, mm, t);
      f(T, v, mm, ib == b0 && ty0 == 0);
    }
  }
}

template <class W>
void backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  constexpr int nxi = Plan<W>::nxi;
  const int nth = conv_threads(g);
  const Plan<W> p(g, 1, weight_block_tiles(g));
  const int64_t image_blocks = ceil_div(g.n, p.I), wsize = static_cast<int64_t>(g.cout) * g.cin * 9;
  const size_t usize = static_cast<size_t>(nxi) * g.cout * g.cin;
  reserve_scratch(kScratchCol, nth, p.v_size());
  reserve_scratch(kScratchPad, nth, p.m_size());
  if (static_cast<int64_t>(usize) * 4 > kMaxGradBytes) {  // by position, one shared dU
    float* du = reserve_scratch(kScratchWinogradWeights, 1, usize);
    parallel(nth, [&](int tid, int nt) {
      int64_t x0, x1;
      split_range(nxi, tid, nt, x0, x1);
      for_each_block(g, p, x, dy, 0, image_blocks, tid, [&](int T, const float* v, const float* mm, bool first) {
        accumulate_block(g, p, T, static_cast<int>(x0), static_cast<int>(x1), v, mm, first, du);
      });
    });
    parallel_for(g.cout, std::max<int64_t>(1, 4096 / g.cin), [&](int64_t c0, int64_t c1) {
      untransform_weights<W>(g, c0, c1, du, dw);
    });
    return;
  }
  const int slots = weight_slots(image_blocks, wsize);
  reserve_scratch(kScratchWinogradWeights, nth, usize);
  float* part = reserve_scratch(kScratchPartial, 1, static_cast<size_t>(slots) * wsize);
  parallel_dynamic(nth, slots, [&](int tid, int64_t s) {
    float* du = scratch(kScratchWinogradWeights, tid);
    int64_t b0, b1;
    split_range(image_blocks, static_cast<int>(s), slots, b0, b1);
    for_each_block(g, p, x, dy, b0, b1, tid, [&](int T, const float* v, const float* mm, bool first) {
      accumulate_block(g, p, T, 0, nxi, v, mm, first, du);
    });
    untransform_weights<W>(g, 0, g.cout, du, part + s * wsize);
  });
  parallel_for(wsize, 65536 / slots, [&](int64_t a, int64_t b) {
    std::memcpy(dw + a, part + a, sizeof(float) * (b - a));
    for (int s = 1; s < slots; s++) {
      const float* ps = part + s * wsize;
      for (int64_t i = a; i < b; i++) dw[i] += ps[i];
    }
  });
}

// The output tile size m to use for g, or 0 for im2col.
int tile_size(const ConvGeom& g) {
  if (!enabled() || g.kh != 3 || g.kw != 3 || g.sh != 1 || g.sw != 1 || g.ph > 2 || g.pw > 2) return 0;
  if (g.cin < kMinChannels || g.cout < kMinChannels || g.n < kMinBatch) return 0;
  const int oh = g.oh(), ow = g.ow();
  if (oh < 1 || ow < 1) return 0;
  const int nth = conv_threads(g);
  const auto tiles = [&](int m) { return g.n * ceil_div(oh, m) * ceil_div(ow, m); };
  if (tiles(4) >= kMinTilesF4 * nth) return 4;
  if (tiles(2) >= kMinTilesF2 * nth) return 2;
  return 0;
}

}  // namespace

bool winograd_suits(const ConvGeom& g) { return tile_size(g) != 0; }

void winograd_forward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y) {
  if (tile_size(g) == 4) forward<F4>(g, x, w, bias, y);
  else forward<F2>(g, x, w, bias, y);
}

void winograd_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  if (tile_size(g) == 4) backward_weight<F4>(g, x, dy, dw);
  else backward_weight<F2>(g, x, dy, dw);
}

}  // namespace eb
