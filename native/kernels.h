// Plain C++ kernels over raw row-major buffers (NCHW). The semantics of every
// function are those of the `Kernels` interface in src/native/api.ts; the
// N-API layer (addon.cc) only unwraps arguments and calls these.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace eb {

// ---- threads (threads.cc) ---------------------------------------------------
// One persistent pool does all the parallel work, GEMMs included: OpenBLAS is
// kept single-threaded so its own threads never compete with ours.
// Denormal floats (below 1.2e-38) cost Intel cores a microcode assist per
// operation, 100x an ordinary one. A network whose logits blow up (conv2 at a
// bit ratio away from 1/2: docs/results.md) makes softmax probabilities of
// e^-90 and denormal gradients from them, and its backward ran 7x slower
// (conv2's backward-data 180 instead of 24 ms a step). So kernels run with
// flush-to-zero and denormals-are-zero (MXCSR FTZ | DAZ), as TensorFlow's
// threads do; a value that small is 0 for training purposes.
// EQUALBITS_DENORMALS=1 keeps IEEE denormals. On the JS thread the mode is
// set for one kernel call and restored (V8's own arithmetic must keep IEEE
// semantics); the pool's threads keep it.
constexpr unsigned kFtzDaz = 0x8040;
bool flush_denormals();
struct DenormalsAsZero {
  DenormalsAsZero();
  ~DenormalsAsZero();
  DenormalsAsZero(const DenormalsAsZero&) = delete;
  DenormalsAsZero& operator=(const DenormalsAsZero&) = delete;

 private:
  unsigned saved_;
};

void set_num_threads(int n);
int get_num_threads();

// Runs body(tid, nthreads) on `nthreads` threads (the caller is tid 0) and
// waits. nthreads is clamped to [1, get_num_threads()]. Not re-entrant.
void parallel(int nthreads, const std::function<void(int, int)>& body);

// Threads worth using for `work` units when one thread should get at least
// `grain` of them.
int threads_for(int64_t work, int64_t grain);

// Splits [0, total) into contiguous chunks, one per thread, and calls
// f(begin, end) on each; runs inline when total < 2 * grain.
void parallel_for(int64_t total, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& f);

// Runs f(tid, task) for every task in [0, ntasks) on up to nthreads threads,
// handing tasks out one at a time: a thread slowed down by another process
// on a shared machine then simply does fewer tasks. Results must not depend
// on which thread ran a task.
void parallel_dynamic(int nthreads, int64_t ntasks, const std::function<void(int, int64_t)>& f);

// Per-thread scratch buffers, 64-byte aligned, grown on demand and never
// shrunk. Must be called on the main thread (before `parallel`); returns the
// buffer of thread `tid` in slot `slot`, with room for at least n floats for
// every thread 0..nthreads-1.
enum ScratchSlot {
  kScratchCol,
  kScratchPad,
  kScratchPartial,
  kScratchWeights,
  kScratchWinogradWeights,
  kScratchSlots
};
float* reserve_scratch(int slot, int nthreads, size_t n);
float* scratch(int slot, int tid);

// Partition helper: the [begin, end) share of `tid` out of `nthreads`.
inline void split_range(int64_t total, int tid, int nthreads, int64_t& begin, int64_t& end) {
  begin = total * tid / nthreads;
  end = total * (tid + 1) / nthreads;
}

// Runs f(c0, c1) over channel ranges of an [n, c, hw] tensor, split across
// the threads when the tensor has at least `grain` elements per thread.
template <class F>
void over_channels(int n, int c, int hw, int64_t grain, F f) {
  const int64_t total = static_cast<int64_t>(n) * c * hw;
  const int nth = std::min<int>(threads_for(total, grain), c);
  if (nth <= 1) {
    f(0, c);
    return;
  }
  parallel(nth, [&](int tid, int nt) {
    int64_t c0, c1;
    split_range(c, tid, nt, c0, c1);
    if (c0 < c1) f(static_cast<int>(c0), static_cast<int>(c1));
  });
}

// ---- dense algebra (gemm.cc) --------------------------------------------------
// C = alpha * op(A) op(B) + beta * C, row-major, densely packed; uses the pool.
void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
           const float* b, float beta, float* c);
// Same with explicit leading dimensions, on the calling thread only.
void sgemm_serial(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                  int lda, const float* b, int ldb, float beta, float* c, int ldc);
// Makes OpenBLAS single-threaded (called once at load).
void blas_init();
const char* blas_core();

// ---- small GEMM with A packed in advance (microgemm.cc) -------------------------
// C[m x n] = A[m x k] x B[k x n], B and C row-major with leading dimensions
// ldb and ldc, A packed in panels of kMr rows (packed_a_size floats, element
// (row, col) at packed_a_index, rows past m zero). For the Winograd
// positions' GEMMs, on the calling thread only.
constexpr int kMr = 6;
inline int64_t packed_a_size(int m, int k) { return static_cast<int64_t>((m + kMr - 1) / kMr) * kMr * k; }
inline int64_t packed_a_index(int row, int col, int k) {
  return (static_cast<int64_t>(row / kMr) * k + col) * kMr + row % kMr;
}
void gemm_packed_a(int m, int n, int k, const float* ap, const float* b, int ldb, float* c, int ldc);

// ---- convolution (conv.cc) ----------------------------------------------------
struct ConvGeom {
  int n, cin, h, w, cout, kh, kw, sh, sw, ph, pw;
  int oh() const { return (h + 2 * ph - kh) / sh + 1; }
  int ow() const { return (w + 2 * pw - kw) / sw + 1; }
};
// Threads for a conv call on g: one per 4 MFLOP of direct-conv work, up to
// the pool (shared by the im2col and Winograd paths).
int conv_threads(const ConvGeom& g);
void conv2d_forward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw, float* db);

// ---- Winograd convolution (winograd.cc) ----------------------------------------
// Whether conv2d_forward should take the Winograd path for g: 3x3, stride 1,
// padding <= 2, at least 8 channels in and out and 8 images, enough tiles
// for the GEMMs, and not turned off by EQUALBITS_WINOGRAD=0 (read once).
bool winograd_suits(const ConvGeom& g);
// conv2d_forward for a geometry that winograd_suits: F(4x4, 3x3), or F(2x2,
// 3x3) where a batch of small images has too few 4x4 tiles; uses the pool
// and the kScratchCol, kScratchPad and kScratchWinogradWeights slots.
void winograd_forward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y);
// dW of conv2d_backward_weight (not db) for a geometry that winograd_suits,
// by the same F(m x m, 3 x 3); also uses the kScratchPartial slot.
void winograd_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw);

// ---- batch norm (batchnorm.cc) --------------------------------------------------
void batchnorm_forward_train(int n, int c, int hw, const float* x, const float* gamma,
                             const float* beta, double eps, double momentum, float* running_mean,
                             float* running_var, float* y, float* save_mean, float* save_invstd);
void batchnorm_forward_eval(int n, int c, int hw, const float* x, const float* gamma,
                            const float* beta, double eps, const float* running_mean,
                            const float* running_var, float* y, float* save_mean,
                            float* save_invstd);
void batchnorm_backward(int n, int c, int hw, const float* x, const float* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, bool batch_stats,
                        float* dx, float* dgamma, float* dbeta);

// ---- pooling (pool.cc) ----------------------------------------------------------
struct PoolGeom {
  int n, c, h, w, kh, kw, sh, sw, ph, pw;
  int oh() const { return (h + 2 * ph - kh) / sh + 1; }
  int ow() const { return (w + 2 * pw - kw) / sw + 1; }
};
void maxpool2d_forward(const PoolGeom& g, const float* x, float* y, int32_t* argmax);
void maxpool2d_backward(const PoolGeom& g, const float* dy, const int32_t* argmax, float* dx);
void avgpool2d_forward(const PoolGeom& g, const float* x, float* y);
void avgpool2d_backward(const PoolGeom& g, const float* dy, float* dx);
void global_avgpool_forward(int n, int c, int hw, const float* x, float* y);
void global_avgpool_backward(int n, int c, int hw, const float* dy, float* dx);

// ---- elementwise (elementwise.cc); out may alias an input ------------------------
void add(int64_t len, const float* a, const float* b, float* out);
void mul(int64_t len, const float* a, const float* b, float* out);
void scale(int64_t len, const float* a, double alpha, float* out);
void axpy(int64_t len, double alpha, const float* x, float* y);
void bias_add(int n, int c, int hw, const float* bias, float* y);
void bias_grad(int n, int c, int hw, const float* dy, float* db);
void relu(int64_t len, const float* x, float* y);
void relu_backward(int64_t len, const float* x, const float* dy, float* dx);
void prelu(int n, int c, int hw, const float* x, const float* alpha, float* y);
void prelu_backward(int n, int c, int hw, const float* x, const float* alpha, const float* dy,
                    float* dx, float* dalpha);
void hardtanh(int64_t len, const float* x, double lo, double hi, float* y);
void hardtanh_backward(int64_t len, const float* x, double lo, double hi, const float* dy, float* dx);

// ---- loss (loss.cc) -------------------------------------------------------------
double softmax_cross_entropy(int n, int classes, const float* logits, const int32_t* labels,
                             float* dlogits);

// ---- optimizers (optim.cc) -------------------------------------------------------
void sgd_step(int64_t len, float* param, const float* grad, float* momentum_buf, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool first_step);
void adam_step(int64_t len, float* param, const float* grad, float* m, float* v, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool decoupled,
               int step);

}  // namespace eb
