// WebAssembly entry points of the packed engine (built by scripts/build-wasm.sh
// into wasm/equalbits-packed.wasm, one thread, and with PK_WASM_THREADS into
// wasm/equalbits-packed-mt.wasm, a thread pool on a shared memory): SIMD128
// for the float parts (the shared sources' 8-lane vectors), scalar 64-bit
// popcounts for the binary conv. The heap lives in the module's memory at a
// base the host picks (past the stack, and the workers' stacks).
#include "pk.h"

namespace pk {
namespace {

// counts[f - f0][i] for R filters x C pixels with scalar 64-bit popcounts:
// V8 compiles i64.popcnt to one popcnt instruction, while i8x16.popcnt
// becomes a table-lookup sequence of about ten; measured on ResNet-18's
// layers, 2 x 2 tiles of i64.popcnt beat the SIMD128 kernel by 1.3-1.6x.
template <int R, int C>
void scalar_tile(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f, int32_t f0, int32_t* counts) {
  for (int p = 0; p < bw; p += C) {
    uint64_t acc[R][C];
    for (int r = 0; r < R; r++)
      for (int c = 0; c < C; c++) acc[r][c] = 0;
#pragma clang loop vectorize(disable)
    for (int32_t j = 0; j < kw64; j++) {
      const uint64_t* aj = a + static_cast<int64_t>(j) * bw + p;
      uint64_t av[C];
      for (int c = 0; c < C; c++) av[c] = aj[c];
      for (int r = 0; r < R; r++) {
        const uint64_t wv = w[static_cast<int64_t>(f0 + f + r) * kw64 + j];
        for (int c = 0; c < C; c++) acc[r][c] += static_cast<uint64_t>(__builtin_popcountll(av[c] ^ wv));
      }
    }
    for (int r = 0; r < R; r++)
      for (int c = 0; c < C; c++) counts[(f + r) * bw + p + c] = static_cast<int32_t>(acc[r][c]);
  }
}

constexpr int SR = 2, SC = 2;

void count_wasm(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f0, int32_t f1, int32_t* counts, uint8_t*) {
  const int32_t nf = f1 - f0;
  int32_t f = 0;
  for (; f + SR <= nf; f += SR) scalar_tile<SR, SC>(a, w, kw64, bw, f, f0, counts);
  for (; f < nf; f++) scalar_tile<1, SC>(a, w, kw64, bw, f, f0, counts);
}

void serial(void*, int64_t ntasks, TaskFn fn, void* ctx) {
  for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
}

#ifdef PK_WASM_THREADS
// A thread pool over shared memory (the threaded build): the host starts
// workers (Web Workers, Node worker threads), each an instance of this module
// on the same memory with a stack of its own, and each calls worker(tid).
// The caller of a parallel phase publishes the job, takes tasks itself, and
// spins until all are done: a browser's main thread may not block. A task is
// claimed by a compare-and-swap on (job generation << 32 | next task), so a
// worker holding a stale job can never run a task of the next one; the job's
// fields live in two slots, and slot g & 1 is only rewritten for job g + 2,
// after every task of job g + 1 (and so of g) has finished. Workers spin a
// while after a job, then sleep on `wake` (the caller notifies only when
// someone sleeps).
struct Job {
  TaskFn fn;
  void* ctx;
  uint32_t ntasks;
};
Job jobs[2];
uint64_t claim;   // generation << 32 | next task
uint32_t done;    // tasks of the current job finished
int32_t wake;     // sleepers wait on it
int32_t sleepers;
int32_t quit;
uint32_t started;       // workers that entered worker()
uint32_t worker_tasks;  // tasks run by workers (tid > 0), for tests and the host
constexpr int kSpins = 1 << 16;

template <typename T>
T load(const T& v) { return __atomic_load_n(&v, __ATOMIC_SEQ_CST); }

void take_tasks(int tid) {
  for (;;) {
    uint64_t w = load(claim);
    const uint32_t g = static_cast<uint32_t>(w >> 32), i = static_cast<uint32_t>(w);
    const Job& j = jobs[g & 1];
    const TaskFn fn = load(j.fn);
    void* const ctx = load(j.ctx);
    const uint32_t n = load(j.ntasks);
    if (i >= n) return;
    if (__atomic_compare_exchange_n(&claim, &w, w + 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      fn(ctx, i, tid);
      if (tid > 0) __atomic_fetch_add(&worker_tasks, 1u, __ATOMIC_SEQ_CST);
      __atomic_fetch_add(&done, 1u, __ATOMIC_SEQ_CST);
    }
  }
}

void pooled(void*, int64_t ntasks, TaskFn fn, void* ctx) {
  if (ntasks <= 1) return serial(nullptr, ntasks, fn, ctx);
  const uint32_t g = static_cast<uint32_t>(load(claim) >> 32) + 1;
  Job& j = jobs[g & 1];
  __atomic_store_n(&j.fn, fn, __ATOMIC_SEQ_CST);
  __atomic_store_n(&j.ctx, ctx, __ATOMIC_SEQ_CST);
  __atomic_store_n(&j.ntasks, static_cast<uint32_t>(ntasks), __ATOMIC_SEQ_CST);
  __atomic_store_n(&done, 0u, __ATOMIC_SEQ_CST);
  __atomic_store_n(&claim, static_cast<uint64_t>(g) << 32, __ATOMIC_SEQ_CST);
  if (load(sleepers) > 0) {
    __atomic_fetch_add(&wake, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&wake, 0xffffffffu);
  }
  take_tasks(0);
  while (load(done) < static_cast<uint32_t>(ntasks)) {
  }
}
#endif

}  // namespace
}  // namespace pk

extern "C" {

// The first byte past the module's static data and stack: hosts put the heap
// (64-byte aligned) at or after it.
extern unsigned char __heap_base;
__attribute__((export_name("heap_base"))) uint32_t heap_base() {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&__heap_base));
}

// Runs plan[0 .. nwords) (at byte offset `plan` of memory) over the heap at
// byte offset `heap`, with `tmp` bytes of scratch at offset `tmp`; `tuned` 0
// counts with the portable loop instead (for tests). Returns 0, or the word
// index of a bad record.
// `threads` > 1 (threaded build only): that many threads, this one and
// threads - 1 workers in worker(1 .. threads - 1), each with tmp_bytes of
// scratch at tmp + tid * tmp_bytes.
__attribute__((export_name("run"))) int32_t run(uint32_t heap, uint32_t plan, int32_t nwords, uint32_t tmp,
                                                 int32_t tmp_bytes, int32_t tuned, int32_t threads) {
  pk::count_kernel = tuned ? pk::count_wasm : pk::count_portable;
  constexpr int kMaxThreads = 64;
  uint8_t* t[kMaxThreads];
#ifdef PK_WASM_THREADS
  if (threads < 1 || threads > kMaxThreads) return -1;
  auto parallel = threads > 1 ? pk::pooled : pk::serial;
#else
  if (threads != 1) return -1;
  auto parallel = pk::serial;
#endif
  for (int32_t i = 0; i < threads; i++) t[i] = reinterpret_cast<uint8_t*>(tmp) + static_cast<int64_t>(i) * tmp_bytes;
  pk::Host host{parallel, nullptr, t, tmp_bytes, threads};
  return static_cast<int32_t>(pk::run_plan(reinterpret_cast<uint8_t*>(heap), reinterpret_cast<const int32_t*>(plan), nwords, host));
}

#ifdef PK_WASM_THREADS
// A worker's life: spin or sleep until a job comes, take its tasks, again;
// returns after stop().
__attribute__((export_name("worker"))) void worker(int32_t tid) {
  __atomic_fetch_add(&pk::started, 1u, __ATOMIC_SEQ_CST);
  uint32_t seen = static_cast<uint32_t>(pk::load(pk::claim) >> 32);
  for (;;) {
    int spins = 0;
    uint32_t g;
    while ((g = static_cast<uint32_t>(pk::load(pk::claim) >> 32)) == seen) {
      if (pk::load(pk::quit)) return;
      if (++spins < pk::kSpins) continue;
      __atomic_fetch_add(&pk::sleepers, 1, __ATOMIC_SEQ_CST);
      const int32_t w = pk::load(pk::wake);
      if (static_cast<uint32_t>(pk::load(pk::claim) >> 32) == seen && !pk::load(pk::quit))
        __builtin_wasm_memory_atomic_wait32(&pk::wake, w, -1);
      __atomic_fetch_sub(&pk::sleepers, 1, __ATOMIC_SEQ_CST);
      spins = 0;
    }
    seen = g;
    pk::take_tasks(tid);
  }
}

// Workers started so far, and tasks they ran.
__attribute__((export_name("workers_started"))) uint32_t workers_started() { return pk::load(pk::started); }
__attribute__((export_name("worker_tasks"))) uint32_t worker_tasks() { return pk::load(pk::worker_tasks); }

// Ends every worker's loop.
__attribute__((export_name("stop"))) void stop() {
  __atomic_store_n(&pk::quit, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&pk::wake, 1, __ATOMIC_SEQ_CST);
  __builtin_wasm_memory_atomic_notify(&pk::wake, 0xffffffffu);
}
#endif

// Freestanding: the compiler may still emit these for struct copies.
void* memset(void* d, int c, unsigned long n) {
  unsigned char* p = static_cast<unsigned char*>(d);
  while (n--) *p++ = static_cast<unsigned char>(c);
  return d;
}
void* memcpy(void* d, const void* s, unsigned long n) {
  unsigned char* p = static_cast<unsigned char*>(d);
  const unsigned char* q = static_cast<const unsigned char*>(s);
  while (n--) *p++ = *q++;
  return d;
}

}  // extern "C"
