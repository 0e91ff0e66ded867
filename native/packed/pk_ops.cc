// Elementwise ops, pools and the plan interpreter of the packed engine (see
// pk.h). Each output element is one exact function of its inputs, computed
// the same way by the TypeScript mirror (src/deploy/js-kernels.ts).
#include "pk.h"
#include "pk_util.h"

namespace pk {
namespace {

constexpr int64_t kGrain = 16384;  // elements per task

struct Unary {
  const float* x;
  const float* x2;
  float* y;
  int64_t len;
  float lo, hi;
};

template <typename F>
void over(const Host& host, Unary& u, F f) {
  struct Ctx { Unary* u; F* f; } ctx{&u, &f};
  host.parallel(host.self, (u.len + kGrain - 1) / kGrain, [](void* c, int64_t task, int) {
    Ctx& k = *static_cast<Ctx*>(c);
    const int64_t i0 = task * kGrain, i1 = i0 + kGrain < k.u->len ? i0 + kGrain : k.u->len;
    for (int64_t i = i0; i < i1; i++) k.u->y[i] = (*k.f)(*k.u, i);
  }, &ctx);
}

// e^x from float operations only (no library exp, which differs between
// platforms): n = round(x / ln 2), r = x - n ln 2 in two parts, a degree-7
// Taylor polynomial, then 2^n as two exact power-of-two factors.
float exp_f(float x) {
  if (!(x == x)) return x;
  if (x > 88.72f) return bits_to_float(0x7f800000u);
  if (x < -103.97f) return 0.0f;
  const float t = x * 1.44269504f;
  const int32_t n = static_cast<int32_t>(t < 0.0f ? t - 0.5f : t + 0.5f);
  const float nf = static_cast<float>(n);
  float r = x - nf * 0.693145752f;
  r = r - nf * 1.42860677e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t h = n / 2;
  return p * bits_to_float(static_cast<uint32_t>(h + 127) << 23) * bits_to_float(static_cast<uint32_t>(n - h + 127) << 23);
}

struct Pool {
  int32_t n, c, h, w, kh, kw, sh, sw, ph, pw;
  int32_t oh() const { return out_size(h, kh, sh, ph); }
  int32_t ow() const { return out_size(w, kw, sw, pw); }
  const float* x;
  float* y;
  bool max;
};

// One plane per task: max of the window's inside values (first one, then
// strictly greater), or their sum in row order times 1 / (kh kw).
void pool_task(void* ctx, int64_t plane, int) {
  const Pool& g = *static_cast<const Pool*>(ctx);
  const int32_t oh = g.oh(), ow = g.ow();
  const float* xp = g.x + plane * g.h * g.w;
  float* yp = g.y + plane * oh * ow;
  const float inv = 1.0f / static_cast<float>(g.kh * g.kw);
  for (int32_t oy = 0; oy < oh; oy++) {
    for (int32_t ox = 0; ox < ow; ox++) {
      float acc = 0.0f;
      bool first = true;
      for (int32_t ky = 0; ky < g.kh; ky++) {
        const int32_t iy = oy * g.sh - g.ph + ky;
        if (iy < 0 || iy >= g.h) continue;
        for (int32_t kx = 0; kx < g.kw; kx++) {
          const int32_t ix = ox * g.sw - g.pw + kx;
          if (ix < 0 || ix >= g.w) continue;
          const float v = xp[iy * g.w + ix];
          if (!g.max) acc = acc + v;
          else if (first || v > acc) acc = v;
          first = false;
        }
      }
      yp[oy * ow + ox] = g.max ? acc : acc * inv;
    }
  }
}

struct Planes {
  int64_t planes, hw, per;  // per: whole planes a task, about kGrain elements
  int32_t c;
  const float *x, *alpha, *scale, *shift, *r;
  float* y;
  bool rfirst;
};

// One channel plane of the chain; each step is compiled in or out.
template <bool A, bool S, bool R>
void chain_plane(const Planes& g, int64_t p) {
  const int32_t ch = static_cast<int32_t>(p % g.c);
  const float* xp = g.x + p * g.hw;
  const float* rp = R ? g.r + p * g.hw : nullptr;
  float* yp = g.y + p * g.hw;
  const float a = A ? g.alpha[ch] : 0.0f, s = S ? g.scale[ch] : 0.0f, b = S ? g.shift[ch] : 0.0f;
  auto step = [&](float v) {
    if (A) v = v > 0.0f ? v : a * v;
    if (S) v = v * s + b;
    return v;
  };
  // The residual is added in the graph's operand order (NaN payloads follow it).
  if (R && g.rfirst) {
    for (int64_t i = 0; i < g.hw; i++) yp[i] = rp[i] + step(xp[i]);
  } else if (R) {
    for (int64_t i = 0; i < g.hw; i++) yp[i] = step(xp[i]) + rp[i];
  } else {
    for (int64_t i = 0; i < g.hw; i++) yp[i] = step(xp[i]);
  }
}

// Planes [p0, p1) of task `task`.
inline void task_planes(const Planes& g, int64_t task, int64_t& p0, int64_t& p1) {
  p0 = task * g.per;
  p1 = p0 + g.per < g.planes ? p0 + g.per : g.planes;
}

void chain_task(void* ctx, int64_t task, int) {
  const Planes& g = *static_cast<const Planes*>(ctx);
  using Fn = void (*)(const Planes&, int64_t);
  static constexpr Fn kFns[8] = {chain_plane<false, false, false>, chain_plane<false, false, true>,
                                 chain_plane<false, true, false>,  chain_plane<false, true, true>,
                                 chain_plane<true, false, false>,  chain_plane<true, false, true>,
                                 chain_plane<true, true, false>,   chain_plane<true, true, true>};
  const Fn fn = kFns[(g.alpha ? 4 : 0) | (g.scale ? 2 : 0) | (g.r ? 1 : 0)];
  int64_t p0, p1;
  task_planes(g, task, p0, p1);
  for (int64_t p = p0; p < p1; p++) fn(g, p);
}

// Global average pool: the plane's sum in order, divided by its size.
void mean_task(void* ctx, int64_t task, int) {
  const Planes& g = *static_cast<const Planes*>(ctx);
  int64_t p0, p1;
  task_planes(g, task, p0, p1);
  for (int64_t p = p0; p < p1; p++) {
    const float* xp = g.x + p * g.hw;
    float s = 0.0f;
    for (int64_t i = 0; i < g.hw; i++) s = s + xp[i];
    g.y[p] = s / static_cast<float>(g.hw);
  }
}

void run_planes(uint8_t* heap, const int32_t* a, int op, const Host& host) {
  auto opt = [&](int32_t off) { return off < 0 ? nullptr : at<float>(heap, off); };
  Planes g{};
  g.planes = static_cast<int64_t>(a[0]) * a[1];
  g.c = a[1];
  g.hw = a[2];
  g.x = at<float>(heap, a[3]);
  if (op == kGlobalAvgPool) {
    g.y = at<float>(heap, a[4]);
  } else {
    g.alpha = opt(a[4]);
    g.scale = opt(a[5]);
    g.shift = opt(a[6]);
    g.r = opt(a[7]);
    g.rfirst = a[8] != 0;
    g.y = at<float>(heap, a[9]);
  }
  g.per = g.hw >= kGrain ? 1 : kGrain / g.hw;
  host.parallel(host.self, (g.planes + g.per - 1) / g.per, op == kGlobalAvgPool ? mean_task : chain_task, &g);
}

// ResNet option-A shortcut: every second row and column, `pad` zero channels each side.
void subsample_pad(uint8_t* heap, const int32_t* a) {
  const int32_t n = a[0], c = a[1], h = a[2], w = a[3], pad = a[4];
  const int32_t oc = c + 2 * pad, oh = (h + 1) / 2, ow = (w + 1) / 2;
  const float* x = at<float>(heap, a[5]);
  float* y = at<float>(heap, a[6]);
  for (int64_t i = 0, len = static_cast<int64_t>(n) * oc * oh * ow; i < len; i++) y[i] = 0.0f;
  for (int32_t b = 0; b < n; b++)
    for (int32_t ch = 0; ch < c; ch++) {
      const float* src = x + (static_cast<int64_t>(b) * c + ch) * h * w;
      float* dst = y + (static_cast<int64_t>(b) * oc + ch + pad) * oh * ow;
      for (int32_t i = 0; i < oh; i++)
        for (int32_t j = 0; j < ow; j++) dst[i * ow + j] = src[2 * i * w + 2 * j];
    }
}

void transpose(uint8_t* heap, const int32_t* a) {
  const int32_t rows = a[0], cols = a[1];
  const float* x = at<float>(heap, a[2]);
  float* y = at<float>(heap, a[3]);
  for (int32_t i = 0; i < rows; i++)
    for (int32_t j = 0; j < cols; j++) y[static_cast<int64_t>(j) * rows + i] = x[static_cast<int64_t>(i) * cols + j];
}

// Argument words each op needs (after the two header words).
int32_t arity(int32_t op) {
  switch (op) {
    case kBinaryConv: return 23;
    case kFloatConv: return 20;
    case kChannel: return 10;
    case kRelu: case kSign: case kSigmoid: return 3;
    case kHardtanh: return 5;
    case kAdd: return 4;
    case kMaxPool: case kAvgPool: return 12;
    case kGlobalAvgPool: return 5;
    case kSubsamplePad: return 7;
    case kTranspose: return 4;
    default: return -1;
  }
}

}  // namespace

int64_t run_plan(uint8_t* heap, const int32_t* plan, int64_t nwords, const Host& host) {
  for (int64_t pos = 0; pos < nwords;) {
    if (pos + 2 > nwords) return pos;
    const int32_t op = plan[pos], len = plan[pos + 1];
    if (arity(op) < 0 || len != arity(op) || pos + 2 + len > nwords) return pos;
    const int32_t* a = plan + pos + 2;
    Unary u{nullptr, nullptr, nullptr, 0, 0.0f, 0.0f};
    switch (op) {
      case kBinaryConv: binary_conv(heap, a, host); break;
      case kFloatConv: float_conv(heap, a, host); break;
      case kChannel: case kGlobalAvgPool: run_planes(heap, a, op, host); break;
      case kRelu: case kSign: case kSigmoid: case kHardtanh: case kAdd: {
        u.len = a[0];
        u.x = at<float>(heap, a[1]);
        if (op == kRelu) { u.y = at<float>(heap, a[2]); over(host, u, [](const Unary& v, int64_t i) { return v.x[i] > 0.0f ? v.x[i] : 0.0f; }); }
        if (op == kSign) { u.y = at<float>(heap, a[2]); over(host, u, [](const Unary& v, int64_t i) { return v.x[i] < 0.0f ? -1.0f : 1.0f; }); }
        if (op == kSigmoid) { u.y = at<float>(heap, a[2]); over(host, u, [](const Unary& v, int64_t i) { return 1.0f / (1.0f + exp_f(-v.x[i])); }); }
        if (op == kHardtanh) {
          u.lo = bits_to_float(static_cast<uint32_t>(a[2]));
          u.hi = bits_to_float(static_cast<uint32_t>(a[3]));
          u.y = at<float>(heap, a[4]);
          over(host, u, [](const Unary& v, int64_t i) { const float t = v.x[i]; return t < v.lo ? v.lo : t > v.hi ? v.hi : t; });
        }
        if (op == kAdd) { u.x2 = at<float>(heap, a[2]); u.y = at<float>(heap, a[3]); over(host, u, [](const Unary& v, int64_t i) { return v.x[i] + v.x2[i]; }); }
        break;
      }
      case kMaxPool: case kAvgPool: {
        Pool g{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], at<float>(heap, a[10]), at<float>(heap, a[11]), op == kMaxPool};
        host.parallel(host.self, static_cast<int64_t>(g.n) * g.c, pool_task, &g);
        break;
      }
      case kSubsamplePad: subsample_pad(heap, a); break;
      case kTranspose: transpose(heap, a); break;
    }
    pos += 2 + len;
  }
  return 0;
}

}  // namespace pk
