// N-API layer: unwraps JS arguments and calls the kernels in kernels.h.
// Lengths are validated by src/native/index.ts before any call; here we only
// check that typed arrays have the right element type, since a wrong one
// would silently reinterpret memory.
#include <napi.h>

#include <mutex>

#include "kernels.h"
#include "quant.h"
#include "xnor.h"

namespace eb {
void register_packed(Napi::Env env, Napi::Object exports);  // packed_addon.cc
}

namespace {

// The pool and scratch buffers are process-wide; this serialises callers
// from different JS threads (worker_threads) so they never share them.
std::mutex g_lock;

float* F32(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a Float32Array");
  return v.As<Napi::Float32Array>().Data();
}

float* F32OrNull(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return F32(info, i);
}

int32_t* I32(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be an Int32Array");
  return v.As<Napi::Int32Array>().Data();
}

double Num(const Napi::CallbackInfo& info, size_t i) { return info[i].ToNumber().DoubleValue(); }
int Int(const Napi::CallbackInfo& info, size_t i) { return info[i].ToNumber().Int32Value(); }
int8_t* I8(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int8_array)
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be an Int8Array");
  return v.As<Napi::Int8Array>().Data();
}

int64_t Len(const Napi::CallbackInfo& info, size_t i) { return info[i].ToNumber().Int64Value(); }
bool Bool(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

int Field(const Napi::Object& o, const char* name) { return o.Get(name).ToNumber().Int32Value(); }

eb::ConvGeom Conv(const Napi::CallbackInfo& info, size_t i) {
  Napi::Object o = info[i].ToObject();
  return eb::ConvGeom{Field(o, "n"),  Field(o, "cin"), Field(o, "h"),  Field(o, "w"),
                      Field(o, "cout"), Field(o, "kh"), Field(o, "kw"), Field(o, "sh"),
                      Field(o, "sw"), Field(o, "ph"), Field(o, "pw")};
}

eb::PoolGeom Pool(const Napi::CallbackInfo& info, size_t i) {
  Napi::Object o = info[i].ToObject();
  return eb::PoolGeom{Field(o, "n"),  Field(o, "c"),  Field(o, "h"),  Field(o, "w"),  Field(o, "kh"),
                      Field(o, "kw"), Field(o, "sh"), Field(o, "sw"), Field(o, "ph"), Field(o, "pw")};
}

// Every kernel call holds the lock (one caller at a time in the shared
// buffers) and runs with denormals flushed (kernels.h, DenormalsAsZero).
struct Guard {
  explicit Guard(std::mutex& m) : lock(m) {}
  std::lock_guard<std::mutex> lock;
  eb::DenormalsAsZero ftz;
};

void SetNumThreads(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0);
  if (n < 1) throw Napi::RangeError::New(info.Env(), "threads must be a positive integer");
  Guard g(g_lock);
  eb::set_num_threads(n);
}

Napi::Value BlasCore(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), eb::blas_core());
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  Guard g(g_lock);
  return Napi::Number::New(info.Env(), eb::get_num_threads());
}

void Sgemm(const Napi::CallbackInfo& info) {
  const bool ta = Bool(info, 0), tb = Bool(info, 1);
  const int m = Int(info, 2), n = Int(info, 3), k = Int(info, 4);
  const float alpha = static_cast<float>(Num(info, 5));
  const float *a = F32(info, 6), *b = F32(info, 7);
  const float beta = static_cast<float>(Num(info, 8));
  float* c = F32(info, 9);
  Guard g(g_lock);
  eb::sgemm(ta, tb, m, n, k, alpha, a, b, beta, c);
}

void Conv2dForward(const Napi::CallbackInfo& info) {
  const eb::ConvGeom geo = Conv(info, 0);
  const float *x = F32(info, 1), *w = F32(info, 2), *bias = F32OrNull(info, 3);
  float* y = F32(info, 4);
  Guard g(g_lock);
  eb::conv2d_forward(geo, x, w, bias, y);
}
void Conv2dBackwardData(const Napi::CallbackInfo& info) {
  const eb::ConvGeom geo = Conv(info, 0);
  const float *dy = F32(info, 1), *w = F32(info, 2);
  float* dx = F32(info, 3);
  Guard g(g_lock);
  eb::conv2d_backward_data(geo, dy, w, dx);
}
void Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  const eb::ConvGeom geo = Conv(info, 0);
  const float *x = F32(info, 1), *dy = F32(info, 2);
  float *dw = F32(info, 3), *db = F32OrNull(info, 4);
  Guard g(g_lock);
  eb::conv2d_backward_weight(geo, x, dy, dw, db);
}

void XnorConv2dForward(const Napi::CallbackInfo& info) {
  const eb::ConvGeom geo = Conv(info, 0);
  if (geo.kh * geo.kw > eb::kXnorMaxTaps) throw Napi::RangeError::New(info.Env(), "xnorConv2dForward: too many kernel taps");
  const float* x = F32(info, 1);
  const int8_t* codes = I8(info, 2);
  const float *scales = F32(info, 3), *bias = F32OrNull(info, 4);
  float* y = F32(info, 5);
  Guard g(g_lock);
  eb::xnor_conv2d_forward(geo, x, codes, scales, bias, y);
}

void BatchNormForwardTrain(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float *x = F32(info, 3), *gamma = F32(info, 4), *beta = F32(info, 5);
  const double eps = Num(info, 6), momentum = Num(info, 7);
  float *rm = F32(info, 8), *rv = F32(info, 9), *y = F32(info, 10), *sm = F32(info, 11),
        *si = F32(info, 12);
  Guard g(g_lock);
  eb::batchnorm_forward_train(n, c, hw, x, gamma, beta, eps, momentum, rm, rv, y, sm, si);
}
void BatchNormForwardEval(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float *x = F32(info, 3), *gamma = F32(info, 4), *beta = F32(info, 5);
  const double eps = Num(info, 6);
  const float *rm = F32(info, 7), *rv = F32(info, 8);
  float *y = F32(info, 9), *sm = F32(info, 10), *si = F32(info, 11);
  Guard g(g_lock);
  eb::batchnorm_forward_eval(n, c, hw, x, gamma, beta, eps, rm, rv, y, sm, si);
}
void BatchNormBackward(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float *x = F32(info, 3), *dy = F32(info, 4), *gamma = F32(info, 5), *sm = F32(info, 6),
              *si = F32(info, 7);
  const bool batch_stats = Bool(info, 8);
  float *dx = F32(info, 9), *dgamma = F32(info, 10), *dbeta = F32(info, 11);
  Guard g(g_lock);
  eb::batchnorm_backward(n, c, hw, x, dy, gamma, sm, si, batch_stats, dx, dgamma, dbeta);
}

void MaxPool2dForward(const Napi::CallbackInfo& info) {
  const eb::PoolGeom geo = Pool(info, 0);
  const float* x = F32(info, 1);
  float* y = F32(info, 2);
  int32_t* am = I32(info, 3);
  Guard g(g_lock);
  eb::maxpool2d_forward(geo, x, y, am);
}
void MaxPool2dBackward(const Napi::CallbackInfo& info) {
  const eb::PoolGeom geo = Pool(info, 0);
  const float* dy = F32(info, 1);
  const int32_t* am = I32(info, 2);
  float* dx = F32(info, 3);
  Guard g(g_lock);
  eb::maxpool2d_backward(geo, dy, am, dx);
}
void AvgPool2dForward(const Napi::CallbackInfo& info) {
  const eb::PoolGeom geo = Pool(info, 0);
  const float* x = F32(info, 1);
  float* y = F32(info, 2);
  Guard g(g_lock);
  eb::avgpool2d_forward(geo, x, y);
}
void AvgPool2dBackward(const Napi::CallbackInfo& info) {
  const eb::PoolGeom geo = Pool(info, 0);
  const float* dy = F32(info, 1);
  float* dx = F32(info, 2);
  Guard g(g_lock);
  eb::avgpool2d_backward(geo, dy, dx);
}
void GlobalAvgPoolForward(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float* x = F32(info, 3);
  float* y = F32(info, 4);
  Guard g(g_lock);
  eb::global_avgpool_forward(n, c, hw, x, y);
}
void GlobalAvgPoolBackward(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float* dy = F32(info, 3);
  float* dx = F32(info, 4);
  Guard g(g_lock);
  eb::global_avgpool_backward(n, c, hw, dy, dx);
}

void Add(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float *a = F32(info, 1), *b = F32(info, 2);
  float* out = F32(info, 3);
  Guard g(g_lock);
  eb::add(len, a, b, out);
}
void Mul(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float *a = F32(info, 1), *b = F32(info, 2);
  float* out = F32(info, 3);
  Guard g(g_lock);
  eb::mul(len, a, b, out);
}
void Scale(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float* a = F32(info, 1);
  const double alpha = Num(info, 2);
  float* out = F32(info, 3);
  Guard g(g_lock);
  eb::scale(len, a, alpha, out);
}
void Axpy(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const double alpha = Num(info, 1);
  const float* x = F32(info, 2);
  float* y = F32(info, 3);
  Guard g(g_lock);
  eb::axpy(len, alpha, x, y);
}
void BiasAdd(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float* bias = F32(info, 3);
  float* y = F32(info, 4);
  Guard g(g_lock);
  eb::bias_add(n, c, hw, bias, y);
}
void BiasGrad(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float* dy = F32(info, 3);
  float* db = F32(info, 4);
  Guard g(g_lock);
  eb::bias_grad(n, c, hw, dy, db);
}
void Relu(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float* x = F32(info, 1);
  float* y = F32(info, 2);
  Guard g(g_lock);
  eb::relu(len, x, y);
}
void ReluBackward(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float *x = F32(info, 1), *dy = F32(info, 2);
  float* dx = F32(info, 3);
  Guard g(g_lock);
  eb::relu_backward(len, x, dy, dx);
}
void Prelu(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float *x = F32(info, 3), *alpha = F32(info, 4);
  float* y = F32(info, 5);
  Guard g(g_lock);
  eb::prelu(n, c, hw, x, alpha, y);
}
void PreluBackward(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float *x = F32(info, 3), *alpha = F32(info, 4), *dy = F32(info, 5);
  float *dx = F32(info, 6), *dalpha = F32(info, 7);
  Guard g(g_lock);
  eb::prelu_backward(n, c, hw, x, alpha, dy, dx, dalpha);
}
void Hardtanh(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float* x = F32(info, 1);
  const double lo = Num(info, 2), hi = Num(info, 3);
  float* y = F32(info, 4);
  Guard g(g_lock);
  eb::hardtanh(len, x, lo, hi, y);
}
void HardtanhBackward(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float* x = F32(info, 1);
  const double lo = Num(info, 2), hi = Num(info, 3);
  const float* dy = F32(info, 4);
  float* dx = F32(info, 5);
  Guard g(g_lock);
  eb::hardtanh_backward(len, x, lo, hi, dy, dx);
}

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), classes = Int(info, 1);
  const float* logits = F32(info, 2);
  const int32_t* labels = I32(info, 3);
  float* dlogits = F32OrNull(info, 4);
  Guard g(g_lock);
  return Napi::Number::New(info.Env(), eb::softmax_cross_entropy(n, classes, logits, labels, dlogits));
}

void SgdStep(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  float* param = F32(info, 1);
  const float* grad = F32(info, 2);
  const double momentum = Num(info, 5);
  // The buffer may be absent (or empty) when momentum is 0: it is not touched then.
  float* buf = momentum != 0.0 ? F32(info, 3) : nullptr;
  const double lr = Num(info, 4), dampening = Num(info, 6), wd = Num(info, 7);
  const bool nesterov = Bool(info, 8), first = Bool(info, 9);
  Guard g(g_lock);
  eb::sgd_step(len, param, grad, buf, lr, momentum, dampening, wd, nesterov, first);
}
void AdamStep(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  float* param = F32(info, 1);
  const float* grad = F32(info, 2);
  float *m = F32(info, 3), *v = F32(info, 4);
  const double lr = Num(info, 5), b1 = Num(info, 6), b2 = Num(info, 7), eps = Num(info, 8),
               wd = Num(info, 9);
  const bool decoupled = Bool(info, 10);
  const int step = Int(info, 11);
  Guard g(g_lock);
  eb::adam_step(len, param, grad, m, v, lr, b1, b2, eps, wd, decoupled, step);
}

void RankCodes(const Napi::CallbackInfo& info) {
  const int groups = Int(info, 0), size = Int(info, 1);
  const float* latent = F32(info, 2);
  const int low = Int(info, 3), high = Int(info, 4);
  int8_t* codes = I8(info, 5);
  Guard g(g_lock);
  eb::rank_codes(groups, size, latent, low, high, codes);
}
void SignCodes(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float* latent = F32(info, 1);
  int8_t* codes = I8(info, 2);
  Guard g(g_lock);
  eb::sign_codes(len, latent, codes);
}
void BalancedCodes(const Napi::CallbackInfo& info) {
  const int filters = Int(info, 0), n = Int(info, 1);
  const float* latent = F32(info, 2);
  int8_t* codes = I8(info, 3);
  Guard g(g_lock);
  eb::balanced_codes(filters, n, latent, codes);
}
void BalancedScales(const Napi::CallbackInfo& info) {
  const int filters = Int(info, 0), n = Int(info, 1);
  const float* latent = F32(info, 2);
  float* factors = F32(info, 3);
  Guard g(g_lock);
  eb::balanced_scales(filters, n, latent, factors);
}
void BalancedBackward(const Napi::CallbackInfo& info) {
  const int filters = Int(info, 0), n = Int(info, 1);
  const float* latent = F32(info, 2);
  const float* grad = F32(info, 3);
  float* out = F32(info, 4);
  Guard g(g_lock);
  eb::balanced_backward(filters, n, latent, grad, out);
}
void CodesToWeights(const Napi::CallbackInfo& info) {
  const int groups = Int(info, 0), size = Int(info, 1);
  const int8_t* codes = I8(info, 2);
  const float* scales = F32(info, 3);
  float* out = F32(info, 4);
  Guard g(g_lock);
  eb::codes_to_weights(groups, size, codes, scales, out);
}
void ChannelScale(const Napi::CallbackInfo& info) {
  const int n = Int(info, 0), c = Int(info, 1), hw = Int(info, 2);
  const float *x = F32(info, 3), *scales = F32(info, 4);
  float* y = F32(info, 5);
  Guard g(g_lock);
  eb::channel_scale(n, c, hw, x, scales, y);
}
void SignForward(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float* x = F32(info, 1);
  float* y = F32(info, 2);
  Guard g(g_lock);
  eb::sign_forward(len, x, y);
}
void SignBackward(const Napi::CallbackInfo& info) {
  const int64_t len = Len(info, 0);
  const float *x = F32(info, 1), *dy = F32(info, 2);
  const int mode = Int(info, 3);
  float* dx = F32(info, 4);
  const bool accumulate = Bool(info, 5);
  // EDE's t and k (mode 2); the other modes ignore them.
  const float t = info.Length() > 6 ? static_cast<float>(Num(info, 6)) : 1.0f;
  const float k = info.Length() > 7 ? static_cast<float>(Num(info, 7)) : 1.0f;
  Guard g(g_lock);
  eb::sign_backward(len, x, dy, mode, dx, accumulate, t, k);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  eb::blas_init();
  struct Entry {
    const char* name;
    Napi::Function::Callback fn;
  };
  // Void kernels are wrapped to return undefined.
#define EB_VOID(name, fn) \
  {name, [](const Napi::CallbackInfo& info) -> Napi::Value { fn(info); return info.Env().Undefined(); }}
  const Entry entries[] = {
      EB_VOID("setNumThreads", SetNumThreads),
      {"getNumThreads", GetNumThreads},
      {"blasCore", BlasCore},
      EB_VOID("sgemm", Sgemm),
      EB_VOID("conv2dForward", Conv2dForward),
      EB_VOID("conv2dBackwardData", Conv2dBackwardData),
      EB_VOID("xnorConv2dForward", XnorConv2dForward),
      EB_VOID("conv2dBackwardWeight", Conv2dBackwardWeight),
      EB_VOID("batchNormForwardTrain", BatchNormForwardTrain),
      EB_VOID("batchNormForwardEval", BatchNormForwardEval),
      EB_VOID("batchNormBackward", BatchNormBackward),
      EB_VOID("maxPool2dForward", MaxPool2dForward),
      EB_VOID("maxPool2dBackward", MaxPool2dBackward),
      EB_VOID("avgPool2dForward", AvgPool2dForward),
      EB_VOID("avgPool2dBackward", AvgPool2dBackward),
      EB_VOID("globalAvgPoolForward", GlobalAvgPoolForward),
      EB_VOID("globalAvgPoolBackward", GlobalAvgPoolBackward),
      EB_VOID("add", Add),
      EB_VOID("mul", Mul),
      EB_VOID("scale", Scale),
      EB_VOID("axpy", Axpy),
      EB_VOID("biasAdd", BiasAdd),
      EB_VOID("biasGrad", BiasGrad),
      EB_VOID("relu", Relu),
      EB_VOID("reluBackward", ReluBackward),
      EB_VOID("prelu", Prelu),
      EB_VOID("preluBackward", PreluBackward),
      EB_VOID("hardtanh", Hardtanh),
      EB_VOID("hardtanhBackward", HardtanhBackward),
      {"softmaxCrossEntropy", SoftmaxCrossEntropy},
      EB_VOID("sgdStep", SgdStep),
      EB_VOID("adamStep", AdamStep),
      EB_VOID("rankCodes", RankCodes),
      EB_VOID("signCodes", SignCodes),
      EB_VOID("balancedCodes", BalancedCodes),
      EB_VOID("balancedScales", BalancedScales),
      EB_VOID("balancedBackward", BalancedBackward),
      EB_VOID("codesToWeights", CodesToWeights),
      EB_VOID("channelScale", ChannelScale),
      EB_VOID("signForward", SignForward),
      EB_VOID("signBackward", SignBackward),
  };
#undef EB_VOID
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  eb::register_packed(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(equalbits, Init)
