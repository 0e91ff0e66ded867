// N-API entry points of the packed inference engine (native/packed/): runs a
// whole plan in one call on the addon's thread pool, and reports or picks the
// popcount instruction set. Registered from addon.cc.
#include <napi.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "kernels.h"
#include "packed/pk.h"

namespace eb {
namespace {

std::mutex g_packed_lock;
std::string g_isa;

// Per-thread scratch, grown on demand and kept between calls.
std::vector<std::vector<uint8_t>> g_tmp;
std::vector<uint8_t*> g_tmp_ptrs;

void ensure_isa(Napi::Env env) {
  if (!g_isa.empty()) return;
  const char* want = std::getenv("EQUALBITS_PACKED_ISA");
  const char* got = pk::select_isa(want);
  if (!got) throw Napi::Error::New(env, std::string("EQUALBITS_PACKED_ISA=") + want + ": this CPU cannot run it (use avx512, avx2 or portable)");
  g_isa = got;
}

void run_parallel(void*, int64_t ntasks, pk::TaskFn fn, void* ctx) {
  if (ntasks <= 0) return;
  const int nth = static_cast<int>(std::min<int64_t>(ntasks, get_num_threads()));
  if (nth <= 1) {
    for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  parallel_dynamic(nth, ntasks, [&](int tid, int64_t t) { fn(ctx, t, tid); });
}

// packedRun(heap: ArrayBuffer, plan: Int32Array, tmpBytes: number)
Napi::Value PackedRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "packedRun: heap must be an ArrayBuffer");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "packedRun: plan must be an Int32Array");
  Napi::ArrayBuffer heap = info[0].As<Napi::ArrayBuffer>();
  Napi::Int32Array plan = info[1].As<Napi::Int32Array>();
  const int64_t tmp_bytes = info[2].ToNumber().Int64Value();
  std::lock_guard<std::mutex> guard(g_packed_lock);
  ensure_isa(env);
  const int nth = std::max(1, get_num_threads());
  if (static_cast<int>(g_tmp.size()) < nth) g_tmp.resize(nth);
  g_tmp_ptrs.resize(nth);
  for (int t = 0; t < nth; t++) {
    // 64 spare bytes so the used part can start on a 64-byte boundary.
    if (static_cast<int64_t>(g_tmp[t].size()) < tmp_bytes + 64) g_tmp[t].resize(tmp_bytes + 64);
    const uintptr_t p = reinterpret_cast<uintptr_t>(g_tmp[t].data());
    g_tmp_ptrs[t] = reinterpret_cast<uint8_t*>((p + 63) & ~uintptr_t{63});
  }
  pk::Host host{run_parallel, nullptr, g_tmp_ptrs.data(), tmp_bytes, nth};
  const int64_t bad = pk::run_plan(static_cast<uint8_t*>(heap.Data()), plan.Data(), plan.ElementLength(), host);
  if (bad) throw Napi::Error::New(env, "packedRun: bad plan record at word " + std::to_string(bad));
  return env.Undefined();
}

// packedIsa(): the popcount instruction set in use ("avx512", "avx2", "portable").
Napi::Value PackedIsa(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> guard(g_packed_lock);
  ensure_isa(info.Env());
  return Napi::String::New(info.Env(), g_isa);
}

// setPackedIsa(name): switches instruction set (tests compare them); throws
// when this CPU cannot run it.
Napi::Value SetPackedIsa(const Napi::CallbackInfo& info) {
  const std::string name = info[0].ToString().Utf8Value();
  std::lock_guard<std::mutex> guard(g_packed_lock);
  const char* got = pk::select_isa(name.c_str());
  if (!got) throw Napi::Error::New(info.Env(), "setPackedIsa: this CPU cannot run " + name);
  g_isa = got;
  return Napi::String::New(info.Env(), g_isa);
}

}  // namespace

void register_packed(Napi::Env env, Napi::Object exports) {
  exports.Set("packedRun", Napi::Function::New(env, PackedRun, "packedRun"));
  exports.Set("packedIsa", Napi::Function::New(env, PackedIsa, "packedIsa"));
  exports.Set("setPackedIsa", Napi::Function::New(env, SetPackedIsa, "setPackedIsa"));
}

}  // namespace eb
