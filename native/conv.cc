// 2-D convolution as im2col + GEMM.
//
// For each image, the patches of a block of output rows are unfolded into a
// column buffer col[K = cin*kh*kw, rows*ow] (per-thread scratch) and
//   forward:         y_n[:, block]   = W[cout, K] x col
//   backward data:   dcol            = W^T x dy_n[:, block], then col2im into dx_n
//   backward weight: dW            += dy_n[:, block] x col^T
// Blocking the output rows keeps col in L2 between the unfold and the GEMM
// that reads it. 1x1 stride-1 unpadded convs use x_n directly as col.
//
// Threads: the batch is split across the pool, each thread running
// single-threaded GEMMs on its own images (and, for dW, into its own partial
// sum). When the batch is too small to split evenly, the work inside an image
// is split instead (output rows / input channels / output channels).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"

namespace eb {
namespace {

// Target size of one column block. Small enough to stay in a 1 MB L2 next
// to the GEMM's packed panels, large enough for an efficient GEMM N.
size_t g_col_block_bytes = 256 * 1024;
// TEMP tuning knobs.
#include <cstdlib>
#include <cblas.h>
struct Knobs { Knobs() { if (const char* e = std::getenv("EB_COL_KB")) g_col_block_bytes = std::atol(e) * 1024; if (const char* e = std::getenv("EB_MODE")) mode = *e; } char mode = 'b'; } g_knobs;

bool pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// Output rows per column block.
int block_rows(const ConvGeom& g, int K) {
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(K) * g.ow();
  const size_t r = std::max<size_t>(1, g_col_block_bytes / std::max<size_t>(row_bytes, 1));
  const int oh = g.oh();
  if (r >= static_cast<size_t>(oh)) return oh;
  // Even blocks: better than a full blocks plus a runt.
  const int nblocks = (oh + static_cast<int>(r) - 1) / static_cast<int>(r);
  return (oh + nblocks - 1) / nblocks;
}

// Valid output columns [lo, hi) for kernel column kj: those whose input
// column ox*sw - pw + kj lies inside [0, w).
inline void valid_cols(const ConvGeom& g, int kj, int ow, int& lo, int& hi) {
  const int off = g.pw - kj;  // ix = ox*sw - off
  lo = off > 0 ? (off + g.sw - 1) / g.sw : 0;
  const int last = g.w - 1 + off;  // ix <= w-1  <=>  ox*sw <= w-1+off
  hi = last < 0 ? 0 : std::min(ow, last / g.sw + 1);
  if (hi < lo) hi = lo;
}

// Unfolds output rows [oy0, oy1) of image x (channels [c0, c1)) into col.
void im2col(const ConvGeom& g, const float* x, int c0, int c1, int oy0, int oy1, float* col) {
  const int ow = g.ow();
  const int np = (oy1 - oy0) * ow;
  const int64_t plane = static_cast<int64_t>(g.h) * g.w;
  float* dst = col;
  for (int ci = c0; ci < c1; ci++) {
    const float* xc = x + ci * plane;
    for (int ki = 0; ki < g.kh; ki++) {
      for (int kj = 0; kj < g.kw; kj++, dst += np) {
        int lo, hi;
        valid_cols(g, kj, ow, lo, hi);
        for (int oy = oy0; oy < oy1; oy++) {
          float* d = dst + (oy - oy0) * ow;
          const int iy = oy * g.sh - g.ph + ki;
          if (iy < 0 || iy >= g.h) {
            for (int ox = 0; ox < ow; ox++) d[ox] = 0.0f;
            continue;
          }
          const float* s = xc + static_cast<int64_t>(iy) * g.w - g.pw + kj;
          for (int ox = 0; ox < lo; ox++) d[ox] = 0.0f;
          if (g.sw == 1) {
            for (int ox = lo; ox < hi; ox++) d[ox] = s[ox];
          } else {
            for (int ox = lo; ox < hi; ox++) d[ox] = s[ox * g.sw];
          }
          for (int ox = hi; ox < ow; ox++) d[ox] = 0.0f;
        }
      }
    }
  }
}

// Folds col (channels [c0, c1), output rows [oy0, oy1)) back, adding into dx.
void col2im(const ConvGeom& g, const float* col, int c0, int c1, int oy0, int oy1, float* dx) {
  const int ow = g.ow();
  const int np = (oy1 - oy0) * ow;
  const int64_t plane = static_cast<int64_t>(g.h) * g.w;
  const float* src = col;
  for (int ci = c0; ci < c1; ci++) {
    float* xc = dx + ci * plane;
    for (int ki = 0; ki < g.kh; ki++) {
      for (int kj = 0; kj < g.kw; kj++, src += np) {
        int lo, hi;
        valid_cols(g, kj, ow, lo, hi);
        for (int oy = oy0; oy < oy1; oy++) {
          const int iy = oy * g.sh - g.ph + ki;
          if (iy < 0 || iy >= g.h) continue;
          const float* s = src + (oy - oy0) * ow;
          float* d = xc + static_cast<int64_t>(iy) * g.w - g.pw + kj;
          if (g.sw == 1) {
            for (int ox = lo; ox < hi; ox++) d[ox] += s[ox];
          } else {
            for (int ox = lo; ox < hi; ox++) d[ox * g.sw] += s[ox];
          }
        }
      }
    }
  }
}

// Splitting the batch across threads is best when it divides evenly or is
// large enough that the remainder does not matter.
bool split_batch(int n, int nth) { return nth <= 1 || n % nth == 0 || n >= 8 * nth; }

int conv_threads(const ConvGeom& g) {
  const int64_t flops = 2LL * g.n * g.cout * g.cin * g.kh * g.kw * g.oh() * g.ow();
  return threads_for(flops, 4000000);
}

}  // namespace

void conv2d_forward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y) {
  const int oh = g.oh(), ow = g.ow(), P = oh * ow, K = g.cin * g.kh * g.kw;
  const int64_t xs = static_cast<int64_t>(g.cin) * g.h * g.w, ys = static_cast<int64_t>(g.cout) * P;
  if (g.n == 0 || g.cout == 0 || P == 0) return;
  const bool pw = pointwise(g);
  const int nth = conv_threads(g);
  int R = pw ? oh : block_rows(g, K);
  // A batch too small to split: make enough row blocks for every thread.
  if (!pw && !split_batch(g.n, nth)) R = std::min(R, (oh + nth - 1) / nth);
  const int nblk = (oh + R - 1) / R;
  if (!pw) reserve_scratch(kScratchCol, nth, static_cast<size_t>(K) * R * ow);

  // Tasks are (image, row block) pairs; all are independent.
  const int64_t tasks = static_cast<int64_t>(g.n) * nblk;
  if (g_knobs.mode == 'a') openblas_set_num_threads(nth);
  parallel(g_knobs.mode == 'a' ? 1 : nth, [&](int tid, int nt) {
    int64_t t0, t1;
    // Whole images per thread when possible, so each y_n is finished (and its
    // bias added) while still in cache.
    if (split_batch(g.n, nt)) {
      int64_t n0, n1;
      split_range(g.n, tid, nt, n0, n1);
      t0 = n0 * nblk;
      t1 = n1 * nblk;
    } else {
      split_range(tasks, tid, nt, t0, t1);
    }
    float* col = pw ? nullptr : scratch(kScratchCol, tid);
    for (int64_t t = t0; t < t1; t++) {
      const int64_t img = t / nblk;
      const int oy0 = static_cast<int>(t % nblk) * R, oy1 = std::min(oh, oy0 + R);
      const float* xn = x + img * xs;
      float* yn = y + img * ys + static_cast<int64_t>(oy0) * ow;
      const int np = (oy1 - oy0) * ow;
      const float* b = xn;
      if (!pw) {
        im2col(g, xn, 0, g.cin, oy0, oy1, col);
        b = col;
      }
      sgemm_serial(false, false, g.cout, np, K, 1.0f, w, K, b, np, 0.0f, yn, P);
      if (bias) {
        for (int co = 0; co < g.cout; co++) {
          float* row = yn + static_cast<int64_t>(co) * P;
          const float bv = bias[co];
          for (int p = 0; p < np; p++) row[p] += bv;
        }
      }
    }
  });
  if (g_knobs.mode == 'a') openblas_set_num_threads(1);
}

void conv2d_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const int oh = g.oh(), ow = g.ow(), P = oh * ow, K = g.cin * g.kh * g.kw, kk = g.kh * g.kw;
  const int64_t xs = static_cast<int64_t>(g.cin) * g.h * g.w, ys = static_cast<int64_t>(g.cout) * P;
  if (g.n == 0 || g.cin == 0) return;
  const bool pw = pointwise(g);
  const int R = pw ? oh : block_rows(g, K);
  const int nth = conv_threads(g);
  if (!pw) reserve_scratch(kScratchCol, nth, static_cast<size_t>(K) * R * ow);

  // Tasks are (image, input-channel group) pairs: their dx regions are
  // disjoint, unlike row blocks of one image, whose patches overlap.
  const int groups = split_batch(g.n, nth) ? 1 : std::min(g.cin, nth);
  const int64_t tasks = static_cast<int64_t>(g.n) * groups;
  if (g_knobs.mode == 'a') openblas_set_num_threads(nth);
  parallel(g_knobs.mode == 'a' ? 1 : nth, [&](int tid, int nt) {
    int64_t t0, t1;
    split_range(tasks, tid, nt, t0, t1);
    float* dcol = pw ? nullptr : scratch(kScratchCol, tid);
    for (int64_t t = t0; t < t1; t++) {
      const int64_t img = t / groups;
      const int grp = static_cast<int>(t % groups);
      const int c0 = static_cast<int>(static_cast<int64_t>(g.cin) * grp / groups);
      const int c1 = static_cast<int>(static_cast<int64_t>(g.cin) * (grp + 1) / groups);
      if (c0 >= c1) continue;
      const float* dyn = dy + img * ys;
      float* dxn = dx + img * xs + static_cast<int64_t>(c0) * g.h * g.w;
      const float* wg = w + static_cast<int64_t>(c0) * kk;  // column block of W = rows of W^T
      const int Kg = (c1 - c0) * kk;
      if (pw) {
        sgemm_serial(true, false, Kg, P, g.cout, 1.0f, wg, K, dyn, P, 0.0f, dxn, P);
        continue;
      }
      std::memset(dxn, 0, sizeof(float) * (c1 - c0) * g.h * g.w);
      for (int oy0 = 0; oy0 < oh; oy0 += R) {
        const int oy1 = std::min(oh, oy0 + R), np = (oy1 - oy0) * ow;
        sgemm_serial(true, false, Kg, np, g.cout, 1.0f, wg, K, dyn + static_cast<int64_t>(oy0) * ow, P,
                     0.0f, dcol, np);
        // col2im indexes channels relative to its dx pointer.
        col2im(g, dcol, 0, c1 - c0, oy0, oy1, dxn);
      }
    }
  });
  if (g_knobs.mode == 'a') openblas_set_num_threads(1);
}

void conv2d_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw, float* db) {
  const int oh = g.oh(), ow = g.ow(), P = oh * ow, K = g.cin * g.kh * g.kw;
  const int64_t xs = static_cast<int64_t>(g.cin) * g.h * g.w, ys = static_cast<int64_t>(g.cout) * P;
  const int64_t wsize = static_cast<int64_t>(g.cout) * K;
  if (g.cout == 0) return;
  if (g.n == 0 || P == 0) {
    std::memset(dw, 0, sizeof(float) * wsize);
    if (db) std::memset(db, 0, sizeof(float) * g.cout);
    return;
  }
  const bool pw = pointwise(g);
  const int R = pw ? oh : block_rows(g, K);
  int nth = conv_threads(g);
  const bool by_batch = split_batch(g.n, nth);
  if (!by_batch) nth = std::min(nth, g.cout);
  if (!pw) reserve_scratch(kScratchCol, nth, static_cast<size_t>(K) * R * ow);
  if (by_batch && nth > 1) reserve_scratch(kScratchPartial, nth, static_cast<size_t>(wsize));
  std::vector<double> dbp(db ? static_cast<size_t>(nth) * g.cout : 0, 0.0);
  if (g_knobs.mode == 'a') openblas_set_num_threads(nth);
  parallel(g_knobs.mode == 'a' ? 1 : nth, [&](int tid, int nt) {
    // by_batch: images [n0, n1), all output channels, into a private partial.
    // otherwise: all images, output channels [m0, m1), straight into dw.
    int64_t n0 = 0, n1 = g.n, m0 = 0, m1 = g.cout;
    if (by_batch) split_range(g.n, tid, nt, n0, n1);
    else split_range(g.cout, tid, nt, m0, m1);
    const int M = static_cast<int>(m1 - m0);
    float* acc = (by_batch && tid > 0) ? scratch(kScratchPartial, tid) : dw + m0 * K;
    float* col = pw ? nullptr : scratch(kScratchCol, tid);
    bool first = true;
    for (int64_t img = n0; img < n1 && M > 0; img++) {
      const float* xn = x + img * xs;
      const float* dyn = dy + img * ys + m0 * P;
      for (int oy0 = 0; oy0 < oh; oy0 += R) {
        const int oy1 = std::min(oh, oy0 + R), np = (oy1 - oy0) * ow;
        const float* b = xn;
        if (!pw) {
          im2col(g, xn, 0, g.cin, oy0, oy1, col);
          b = col;
        }
        sgemm_serial(false, true, M, K, np, 1.0f, dyn + static_cast<int64_t>(oy0) * ow, P, b, np,
                     first ? 0.0f : 1.0f, acc, K);
        first = false;
      }
      if (db) {
        double* d = dbp.data() + static_cast<size_t>(tid) * g.cout;
        for (int co = 0; co < M; co++) {
          const float* row = dyn + static_cast<int64_t>(co) * P;
          double s = 0.0;
#pragma omp simd reduction(+ : s)
          for (int p = 0; p < P; p++) s += row[p];
          d[m0 + co] += s;
        }
      }
    }
    if (first && M > 0) std::memset(acc, 0, sizeof(float) * M * K);
  });
  if (g_knobs.mode == 'a') { openblas_set_num_threads(1); nth = 1; }

  if (by_batch) {
    for (int t = 1; t < nth; t++) {
      const float* part = scratch(kScratchPartial, t);
      for (int64_t i = 0; i < wsize; i++) dw[i] += part[i];
    }
  }
  if (db) {
    for (int co = 0; co < g.cout; co++) {
      double s = 0.0;
      for (int t = 0; t < nth; t++) s += dbp[static_cast<size_t>(t) * g.cout + co];
      db[co] = static_cast<float>(s);
    }
  }
}

}  // namespace eb
