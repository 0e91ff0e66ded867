// 2-D convolution as im2col + GEMM (single-threaded OpenBLAS per call).
// The forward of 3x3 stride-1 convs with enough channels and images goes to
// the Winograd path instead (winograd.cc), and so does stride-1 backward
// data, through the forward conv below, and the weight gradient of the same
// convs (its db is then a plain sum of dy).
//
// For each image, the patches of a block of output rows are unfolded into a
// column buffer col[K = cin*kh*kw, rows*ow] (per-thread scratch) and
//   forward:         y_n[:, block] = W[cout, K] x col
//   backward data:   dcol = W^T x dy_n[:, block], then col2im into dx_n;
//                    or, for stride 1 and many input channels, the forward
//                    conv of dy with flipped, transposed weights
//   backward weight: dW += dy_n[:, block] x col^T
// Blocking the output rows keeps col in L2 between the unfold and the GEMM
// that reads it. The image is first copied into a zero-bordered buffer so
// the unfold is plain copies. Bias (forward) and db (backward weight) ride
// inside the GEMM as an extra row of ones in col. 1x1 stride-1 unpadded
// convs use x_n directly as col.
//
// Threads: images are handed out one at a time to the pool, each thread
// running single-threaded GEMMs with its own scratch. dW is summed into a
// fixed set of per-image-range slots, reduced in order, so it does not
// depend on scheduling. When the batch is too small for the threads, the
// work inside an image is split instead (row blocks / input channels /
// output channels).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"

namespace eb {
namespace {

// Target size of one column block. Small enough to stay in a 1 MB L2 next
// to the GEMM's packed panels, large enough for an efficient GEMM N.
constexpr size_t kColBlockBytes = 512 * 1024;

// Below this many input channels the flipped-forward form of backward-data
// has too few GEMM rows to pay off.
constexpr int kMinCinAsForward = 48;

bool pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// Output rows per column block.
int block_rows(const ConvGeom& g, int K) {
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(K) * g.ow();
  const size_t r = std::max<size_t>(1, kColBlockBytes / std::max<size_t>(row_bytes, 1));
  const int oh = g.oh();
  if (r >= static_cast<size_t>(oh)) return oh;
  // Even blocks: better than full blocks plus a runt.
  const int nblocks = (oh + static_cast<int>(r) - 1) / static_cast<int>(r);
  return (oh + nblocks - 1) / nblocks;
}

// Padded geometry: the image with its zero border made explicit, so that
// im2col/col2im are plain copies with no bounds tests (about 1.5x faster than
// clipping every row segment).
struct Padded {
  int hp, wp;
  int64_t plane;
  explicit Padded(const ConvGeom& g)
      : hp(g.h + 2 * g.ph), wp(g.w + 2 * g.pw), plane(static_cast<int64_t>(hp) * wp) {}
};

bool needs_pad(const ConvGeom& g) { return g.ph > 0 || g.pw > 0; }

// Copies channels [c0, c1) of image x into xp with a zero border.
void pad_image(const ConvGeom& g, const Padded& p, const float* x, int c0, int c1, float* xp) {
  for (int ci = c0; ci < c1; ci++) {
    const float* xc = x + static_cast<int64_t>(ci) * g.h * g.w;
    float* pc = xp + (ci - c0) * p.plane;
    std::memset(pc, 0, sizeof(float) * g.ph * p.wp);
    for (int iy = 0; iy < g.h; iy++) {
      float* d = pc + static_cast<int64_t>(iy + g.ph) * p.wp;
      const float* s = xc + static_cast<int64_t>(iy) * g.w;
      for (int j = 0; j < g.pw; j++) d[j] = 0.0f;
      for (int j = 0; j < g.w; j++) d[g.pw + j] = s[j];
      for (int j = g.pw + g.w; j < p.wp; j++) d[j] = 0.0f;
    }
    std::memset(pc + static_cast<int64_t>(g.ph + g.h) * p.wp, 0, sizeof(float) * g.ph * p.wp);
  }
}

// Adds the interior of padded planes back into dx (channels relative to both).
void unpad_image(const ConvGeom& g, const Padded& p, const float* xp, int nch, float* dx) {
  for (int ci = 0; ci < nch; ci++) {
    const float* pc = xp + ci * p.plane + static_cast<int64_t>(g.ph) * p.wp + g.pw;
    float* d = dx + static_cast<int64_t>(ci) * g.h * g.w;
    for (int iy = 0; iy < g.h; iy++)
      std::memcpy(d + static_cast<int64_t>(iy) * g.w, pc + static_cast<int64_t>(iy) * p.wp,
                  sizeof(float) * g.w);
  }
}

// Unfolds output rows [oy0, oy1) of nch padded planes xp into col[nch*kh*kw, rows*ow].
void im2col(const ConvGeom& g, const Padded& p, const float* xp, int nch, int oy0, int oy1,
            float* __restrict col) {
  const int ow = g.ow(), np = (oy1 - oy0) * ow;
  float* dst = col;
  for (int ci = 0; ci < nch; ci++) {
    const float* xc = xp + ci * p.plane;
    for (int ki = 0; ki < g.kh; ki++) {
      for (int kj = 0; kj < g.kw; kj++, dst += np) {
        const float* __restrict s = xc + static_cast<int64_t>(oy0 * g.sh + ki) * p.wp + kj;
        float* __restrict d = dst;
        if (g.sw == 1) {
          for (int oy = oy0; oy < oy1; oy++, d += ow, s += g.sh * p.wp)
            for (int ox = 0; ox < ow; ox++) d[ox] = s[ox];
        } else {
          for (int oy = oy0; oy < oy1; oy++, d += ow, s += g.sh * p.wp)
            for (int ox = 0; ox < ow; ox++) d[ox] = s[ox * g.sw];
        }
      }
    }
  }
}

// Folds col back, adding into nch padded planes xp (the inverse scatter of im2col).
void col2im(const ConvGeom& g, const Padded& p, const float* __restrict col, int nch, int oy0,
            int oy1, float* xp) {
  const int ow = g.ow(), np = (oy1 - oy0) * ow;
  const float* src = col;
  for (int ci = 0; ci < nch; ci++) {
    float* xc = xp + ci * p.plane;
    for (int ki = 0; ki < g.kh; ki++) {
      for (int kj = 0; kj < g.kw; kj++, src += np) {
        float* __restrict d = xc + static_cast<int64_t>(oy0 * g.sh + ki) * p.wp + kj;
        const float* __restrict s = src;
        if (g.sw == 1) {
          for (int oy = oy0; oy < oy1; oy++, s += ow, d += g.sh * p.wp)
            for (int ox = 0; ox < ow; ox++) d[ox] += s[ox];
        } else {
          for (int oy = oy0; oy < oy1; oy++, s += ow, d += g.sh * p.wp)
            for (int ox = 0; ox < ow; ox++) d[ox * g.sw] += s[ox];
        }
      }
    }
  }
}

// Whole images are the unit of work when the batch keeps every thread busy;
// otherwise the work inside an image is split too.
bool split_batch(int n, int nth) { return nth <= 1 || n % nth == 0 || n >= 4 * nth; }


// dW partial sums: a fixed number of slots, each over a fixed range of
// images, reduced in slot order. The result then does not depend on which
// thread ran which slot, nor on the thread count. Capped so the partials
// stay small for big layers.
int weight_slots(int n, int nth, int64_t asize) {
  const int64_t cap = std::max<int64_t>(nth, (32LL << 20) / (asize * 4));
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({n, 16, cap})));
}

}  // namespace

int conv_threads(const ConvGeom& g) {
  const int64_t flops = 2LL * g.n * g.cout * g.cin * g.kh * g.kw * g.oh() * g.ow();
  return threads_for(flops, 4000000);
}

void conv2d_forward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y) {
  const int oh = g.oh(), ow = g.ow(), P = oh * ow, K = g.cin * g.kh * g.kw;
  const int64_t xs = static_cast<int64_t>(g.cin) * g.h * g.w, ys = static_cast<int64_t>(g.cout) * P;
  if (g.n == 0 || g.cout == 0 || P == 0) return;
  if (winograd_suits(g)) {
    winograd_forward(g, x, w, bias, y);
    return;
  }
  const bool pw = pointwise(g), pad = needs_pad(g);
  const Padded pd(g);
  const int nth = conv_threads(g);
  const bool whole = split_batch(g.n, nth);
  int R = pw ? oh : block_rows(g, K);
  // A batch too small to split: make enough row blocks for every thread.
  if (!pw && !whole) R = std::min(R, (oh + nth - 1) / nth);
  const int nblk = (oh + R - 1) / R;
  // The bias rides in the GEMM as an extra column of W against a row of ones
  // in col: cheaper than a separate pass over y (1/K more flops).
  const bool aug = bias && !pw;
  const int Ka = aug ? K + 1 : K;
  const float* wm = w;
  if (aug) {
    float* wa = reserve_scratch(kScratchWeights, 1, static_cast<size_t>(g.cout) * Ka);
    for (int co = 0; co < g.cout; co++) {
      std::memcpy(wa + static_cast<int64_t>(co) * Ka, w + static_cast<int64_t>(co) * K, sizeof(float) * K);
      wa[static_cast<int64_t>(co) * Ka + K] = bias[co];
    }
    wm = wa;
  }
  if (!pw) reserve_scratch(kScratchCol, nth, static_cast<size_t>(Ka) * R * ow);
  if (pad) reserve_scratch(kScratchPad, nth, static_cast<size_t>(g.cin) * pd.plane);
  std::vector<int64_t> padded(nth, -1);  // image each thread's pad buffer holds

  // A task is an image, or an (image, row block) pair for small batches.
  const int64_t tasks = whole ? g.n : static_cast<int64_t>(g.n) * nblk;
  parallel_dynamic(nth, tasks, [&](int tid, int64_t t) {
    const int64_t img = whole ? t : t / nblk;
    const int b0 = whole ? 0 : static_cast<int>(t % nblk), b1 = whole ? nblk : b0 + 1;
    const float* xn = x + img * xs;
    float* col = pw ? nullptr : scratch(kScratchCol, tid);
    float* xp = pad ? scratch(kScratchPad, tid) : nullptr;
    if (pad && padded[tid] != img) {
      pad_image(g, pd, xn, 0, g.cin, xp);
      padded[tid] = img;
    }
    for (int blk = b0; blk < b1; blk++) {
      const int oy0 = blk * R, oy1 = std::min(oh, oy0 + R), np = (oy1 - oy0) * ow;
      float* yn = y + img * ys + static_cast<int64_t>(oy0) * ow;
      if (pw) {
        sgemm_serial(false, false, g.cout, np, K, 1.0f, w, K, xn, np, 0.0f, yn, P);
        if (bias) {
          for (int co = 0; co < g.cout; co++) {
            float* row = yn + static_cast<int64_t>(co) * P;
            const float bv = bias[co];
            for (int q = 0; q < np; q++) row[q] += bv;
          }
        }
        continue;
      }
      im2col(g, pd, pad ? xp : xn, g.cin, oy0, oy1, col);
      if (aug) std::fill(col + static_cast<int64_t>(K) * np, col + static_cast<int64_t>(Ka) * np, 1.0f);
      sgemm_serial(false, false, g.cout, np, Ka, 1.0f, wm, Ka, col, np, 0.0f, yn, P);
    }
  });
}

void conv2d_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const int oh = g.oh(), ow = g.ow(), P = oh * ow, K = g.cin * g.kh * g.kw, kk = g.kh * g.kw;
  const int64_t xs = static_cast<int64_t>(g.cin) * g.h * g.w, ys = static_cast<int64_t>(g.cout) * P;
  if (g.n == 0 || g.cin == 0) return;
  // Stride 1: dx is the forward conv of dy, padded by k-1-p, with the
  // weights flipped and cin/cout swapped. Its GEMM [cin, cout*k*k] x col
  // has a deep inner dimension, which runs ~15% faster than the shallow
  // W^T x dy (K = cout) of the col2im route, and im2col costs about what
  // col2im does. Where that forward conv takes the Winograd path it is
  // faster still, whatever cin.
  const ConvGeom t{g.n, g.cout, oh, ow, g.cin, g.kh, g.kw, 1, 1, g.kh - 1 - g.ph, g.kw - 1 - g.pw};
  if (g.sh == 1 && g.sw == 1 && g.ph < g.kh && g.pw < g.kw && !pointwise(g) &&
      (g.cin >= kMinCinAsForward || winograd_suits(t))) {
    float* wt = reserve_scratch(kScratchWeights, 1, static_cast<size_t>(g.cin) * g.cout * kk);
    for (int co = 0; co < g.cout; co++)
      for (int ci = 0; ci < g.cin; ci++)
        for (int q = 0; q < kk; q++)
          wt[(static_cast<int64_t>(ci) * g.cout + co) * kk + (kk - 1 - q)] = w[(static_cast<int64_t>(co) * g.cin + ci) * kk + q];
    conv2d_forward(t, dy, wt, nullptr, dx);  // no bias: the forward leaves kScratchWeights alone
    return;
  }
  const bool pw = pointwise(g), pad = needs_pad(g);
  const Padded pd(g);
  const int R = pw ? oh : block_rows(g, K);
  const int nth = conv_threads(g);
  // Tasks are (image, input-channel group) pairs: their dx regions are
  // disjoint, unlike row blocks of one image, whose patches overlap.
  const int groups = split_batch(g.n, nth) ? 1 : std::min(g.cin, nth);
  const int max_group = (g.cin + groups - 1) / groups;
  if (!pw) reserve_scratch(kScratchCol, nth, static_cast<size_t>(max_group) * kk * R * ow);
  if (pad) reserve_scratch(kScratchPad, nth, static_cast<size_t>(max_group) * pd.plane);

  parallel_dynamic(nth, static_cast<int64_t>(g.n) * groups, [&](int tid, int64_t t) {
    const int64_t img = t / groups;
    const int grp = static_cast<int>(t % groups);
    const int c0 = static_cast<int>(static_cast<int64_t>(g.cin) * grp / groups);
    const int c1 = static_cast<int>(static_cast<int64_t>(g.cin) * (grp + 1) / groups);
    const int nch = c1 - c0;
    if (nch <= 0) return;
    const float* dyn = dy + img * ys;
    float* dxn = dx + img * xs + static_cast<int64_t>(c0) * g.h * g.w;
    const float* wg = w + static_cast<int64_t>(c0) * kk;  // column block of W = rows of W^T
    const int Kg = nch * kk;
    if (pw) {
      sgemm_serial(true, false, Kg, P, g.cout, 1.0f, wg, K, dyn, P, 0.0f, dxn, P);
      return;
    }
    float* dcol = scratch(kScratchCol, tid);
    float* acc = pad ? scratch(kScratchPad, tid) : dxn;
    std::memset(acc, 0, sizeof(float) * nch * (pad ? pd.plane : static_cast<int64_t>(g.h) * g.w));
    for (int oy0 = 0; oy0 < oh; oy0 += R) {
      const int oy1 = std::min(oh, oy0 + R), np = (oy1 - oy0) * ow;
      sgemm_serial(true, false, Kg, np, g.cout, 1.0f, wg, K, dyn + static_cast<int64_t>(oy0) * ow, P,
                   0.0f, dcol, np);
      col2im(g, pd, dcol, nch, oy0, oy1, acc);
    }
    if (pad) unpad_image(g, pd, acc, nch, dxn);
  });
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
  if (winograd_suits(g)) {
    winograd_backward_weight(g, x, dy, dw);
    if (db) bias_grad(g.n, g.cout, P, dy, db);
    return;
  }
  const bool pw = pointwise(g), pad = needs_pad(g);
  const Padded pd(g);
  const int R = pw ? oh : block_rows(g, K);
  const int nth = conv_threads(g);
  // db rides in the GEMM as an extra column: a row of ones in col makes
  // [dW | db] = dy x [col; 1]^T, which saves a separate pass over dy.
  const bool aug = db && !pw;
  const int Ka = aug ? K + 1 : K;
  const int64_t asize = static_cast<int64_t>(g.cout) * Ka;
  // Batch smaller than the thread count: split output channels instead, all
  // threads sharing one [cout, Ka] target.
  const bool by_rows = g.n < nth && g.cout >= nth;
  const int slots = by_rows ? 1 : weight_slots(g.n, nth, asize);
  if (!pw) reserve_scratch(kScratchCol, nth, static_cast<size_t>(Ka) * R * ow);
  if (pad) reserve_scratch(kScratchPad, nth, static_cast<size_t>(g.cin) * pd.plane);
  float* part = reserve_scratch(kScratchPartial, 1, static_cast<size_t>(slots) * asize);
  std::vector<double> dbp(db && !aug ? static_cast<size_t>(slots) * g.cout : 0, 0.0);

  // One task: images [n0, n1) and output channels [m0, m1) into `acc`.
  auto run = [&](int tid, int64_t n0, int64_t n1, int m0, int m1, float* acc, double* dbs) {
    const int M = m1 - m0;
    float* col = pw ? nullptr : scratch(kScratchCol, tid);
    float* xp = pad ? scratch(kScratchPad, tid) : nullptr;
    bool first = true;
    for (int64_t img = n0; img < n1 && M > 0; img++) {
      const float* xn = x + img * xs;
      const float* dyn = dy + img * ys + static_cast<int64_t>(m0) * P;
      if (pad) pad_image(g, pd, xn, 0, g.cin, xp);
      for (int oy0 = 0; oy0 < oh; oy0 += R) {
        const int oy1 = std::min(oh, oy0 + R), np = (oy1 - oy0) * ow;
        const float* b = xn;
        if (!pw) {
          im2col(g, pd, pad ? xp : xn, g.cin, oy0, oy1, col);
          if (aug) std::fill(col + static_cast<int64_t>(K) * np, col + static_cast<int64_t>(Ka) * np, 1.0f);
          b = col;
        }
        sgemm_serial(false, true, M, Ka, np, 1.0f, dyn + static_cast<int64_t>(oy0) * ow, P, b, np,
                     first ? 0.0f : 1.0f, acc, Ka);
        first = false;
      }
      if (dbs) {
        for (int co = 0; co < M; co++) {
          const float* row = dyn + static_cast<int64_t>(co) * P;
          double s = 0.0;
#pragma omp simd reduction(+ : s)
          for (int q = 0; q < P; q++) s += row[q];
          dbs[m0 + co] += s;
        }
      }
    }
    if (first && M > 0) std::memset(acc, 0, sizeof(float) * M * Ka);
  };

  if (by_rows) {
    parallel(nth, [&](int tid, int nt) {
      int64_t m0, m1;
      split_range(g.cout, tid, nt, m0, m1);
      run(tid, 0, g.n, static_cast<int>(m0), static_cast<int>(m1), part + m0 * Ka,
          dbp.empty() ? nullptr : dbp.data());
    });
  } else {
    parallel_dynamic(nth, slots, [&](int tid, int64_t s) {
      int64_t n0, n1;
      split_range(g.n, static_cast<int>(s), slots, n0, n1);
      run(tid, n0, n1, 0, g.cout, part + s * asize, dbp.empty() ? nullptr : dbp.data() + s * g.cout);
    });
  }

  // Reduce the slots in order (deterministic), splitting output channels
  // across threads when there is enough to add.
  parallel_for(g.cout, std::max<int64_t>(1, 65536 / (static_cast<int64_t>(slots) * Ka)), [&](int64_t c0, int64_t c1) {
    for (int64_t co = c0; co < c1; co++) {
      float* d = dw + co * K;
      const float* p0 = part + co * Ka;
      std::memcpy(d, p0, sizeof(float) * K);
      for (int s = 1; s < slots; s++) {
        const float* ps = p0 + s * asize;
        for (int k = 0; k < K; k++) d[k] += ps[k];
      }
      if (db) {
        double sum = 0.0;
        for (int s = 0; s < slots; s++)
          sum += aug ? static_cast<double>(p0[s * asize + K]) : dbp[static_cast<size_t>(s) * g.cout + co];
        db[co] = static_cast<float>(sum);
      }
    }
  });
}

}  // namespace eb
