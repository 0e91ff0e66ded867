// A small persistent thread pool. Workers spin briefly after each job (the
// next kernel usually follows within microseconds) and then sleep on a
// condition variable, so an idle engine costs no CPU.
#include <sched.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "kernels.h"

namespace eb {
namespace {

using Clock = std::chrono::steady_clock;
// Long enough to bridge the JS glue between two kernel calls, short enough
// not to steal a shared machine's cores.
constexpr auto kSpin = std::chrono::microseconds(100);

int hardware_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

class Pool {
 public:
  static constexpr int kCountBits = 16;
  static constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;

  explicit Pool(int n) { start(n); }
  ~Pool() { stop(); }

  int size() const { return size_; }

  void resize(int n) {
    n = std::min(n, 256);  // more threads than that is a caller bug, not a speed-up
    if (n == size_) return;
    stop();
    start(n);
  }

  void run(int nth, const std::function<void(int, int)>& body) {
    nth = std::max(1, std::min(nth, size_));
    if (nth == 1) {
      body(0, 1);
      return;
    }
    job_ = &body;
    error_ = nullptr;
    remaining_.store(nth - 1, std::memory_order_relaxed);
    {
      // The thread count travels in the low bits of the generation so a
      // worker that wakes late still reads a consistent (job, count) pair.
      std::lock_guard<std::mutex> lk(m_);
      const uint64_t next = ((gen_.load(std::memory_order_relaxed) >> kCountBits) + 1) << kCountBits;
      gen_.store(next | static_cast<uint64_t>(nth), std::memory_order_release);
    }
    cv_start_.notify_all();
    try {
      body(0, nth);
    } catch (...) {
      std::lock_guard<std::mutex> lk(m_);
      if (!error_) error_ = std::current_exception();
    }
    wait_done();
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void start(int n) {
    size_ = std::max(1, n);
    stop_ = false;
    const uint64_t g = gen_.load();
    for (int t = 1; t < size_; t++) workers_.emplace_back([this, t, g] { loop(t, g); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
      gen_.store(((gen_.load(std::memory_order_relaxed) >> kCountBits) + 1) << kCountBits,
                 std::memory_order_release);
    }
    cv_start_.notify_all();
    for (auto& th : workers_) th.join();
    workers_.clear();
  }

  void wait_done() {
    const auto t0 = Clock::now();
    for (unsigned it = 1; remaining_.load(std::memory_order_acquire) != 0; it++) {
      _mm_pause();
      if ((it & 255) == 0 && Clock::now() - t0 > kSpin) {
        std::unique_lock<std::mutex> lk(m_);
        cv_done_.wait(lk, [this] { return remaining_.load(std::memory_order_acquire) == 0; });
        return;
      }
    }
  }

  void loop(int tid, uint64_t seen) {
    // The pool's threads only run our kernels: they flush denormals for good.
    if (flush_denormals()) _mm_setcsr(_mm_getcsr() | kFtzDaz);
    for (;;) {
      uint64_t g;
      const auto t0 = Clock::now();
      for (unsigned it = 1; (g = gen_.load(std::memory_order_acquire)) == seen; it++) {
        _mm_pause();
        if ((it & 255) == 0 && Clock::now() - t0 > kSpin) {
          std::unique_lock<std::mutex> lk(m_);
          cv_start_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
        }
      }
      seen = g;
      if (stop_) return;
      const int nth = static_cast<int>(g & kCountMask);
      if (tid >= nth) continue;
      try {
        (*job_)(tid, nth);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m_);
        if (!error_) error_ = std::current_exception();
      }
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(m_);
        cv_done_.notify_one();
      }
    }
  }

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_start_, cv_done_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> remaining_{0};
  const std::function<void(int, int)>* job_ = nullptr;
  bool stop_ = false;
  std::exception_ptr error_;
};

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process
  // exit can deadlock.
  static Pool* p = new Pool(hardware_threads());
  return *p;
}

struct Buffer {
  float* p = nullptr;
  size_t cap = 0;
};
std::vector<Buffer> g_scratch[kScratchSlots];

}  // namespace

bool flush_denormals() {
  static const bool on = [] {
    const char* v = std::getenv("EQUALBITS_DENORMALS");
    return !(v && std::string(v) == "1");
  }();
  return on;
}

DenormalsAsZero::DenormalsAsZero() : saved_(_mm_getcsr()) {
  if (flush_denormals()) _mm_setcsr(saved_ | kFtzDaz);
}
DenormalsAsZero::~DenormalsAsZero() { _mm_setcsr(saved_); }

void set_num_threads(int n) { pool().resize(std::max(1, n)); }
int get_num_threads() { return pool().size(); }

void parallel(int nthreads, const std::function<void(int, int)>& body) { pool().run(nthreads, body); }

int threads_for(int64_t work, int64_t grain) {
  const int64_t n = grain > 0 ? work / grain : work;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, get_num_threads())));
}

void parallel_for(int64_t total, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
  const int nth = threads_for(total, grain);
  if (nth <= 1) {
    if (total > 0) f(0, total);
    return;
  }
  pool().run(nth, [&](int tid, int nt) {
    int64_t b, e;
    split_range(total, tid, nt, b, e);
    if (b < e) f(b, e);
  });
}

void parallel_dynamic(int nthreads, int64_t ntasks, const std::function<void(int, int64_t)>& f) {
  nthreads = static_cast<int>(std::min<int64_t>(nthreads, ntasks));
  if (nthreads <= 1) {
    for (int64_t t = 0; t < ntasks; t++) f(0, t);
    return;
  }
  std::atomic<int64_t> next{0};
  pool().run(nthreads, [&](int tid, int) {
    for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < ntasks;) f(tid, t);
  });
}

float* reserve_scratch(int slot, int nthreads, size_t n) {
  auto& bufs = g_scratch[slot];
  if (static_cast<int>(bufs.size()) < nthreads) bufs.resize(nthreads);
  const size_t bytes = ((std::max<size_t>(n, 1) * sizeof(float)) + 63) / 64 * 64;
  for (int t = 0; t < nthreads; t++) {
    if (bufs[t].cap >= n && bufs[t].p) continue;
    std::free(bufs[t].p);
    bufs[t].p = static_cast<float*>(std::aligned_alloc(64, bytes));
    bufs[t].cap = bufs[t].p ? bytes / sizeof(float) : 0;
    if (!bufs[t].p) throw std::bad_alloc();
  }
  return bufs[0].p;
}

float* scratch(int slot, int tid) { return g_scratch[slot][tid].p; }

}  // namespace eb
