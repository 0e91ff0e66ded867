// The two convolutions of the packed engine (see pk.h). Freestanding C++: no
// library calls, so the same file builds for WebAssembly.
#include "pk.h"
#include "pk_util.h"

namespace pk {

CountFn count_kernel = count_portable;

namespace {

// Eight floats (or their bits) as one vector: AVX registers natively, two
// SIMD128 registers in WebAssembly. Lane-wise IEEE operations, so the result
// is the scalar loop's, lane by lane.
typedef float v8f __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));

template <typename V>
inline V load8(const void* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

void count_portable(const uint64_t* a, const uint64_t* w, int32_t kw64, int32_t bw, int32_t f0, int32_t f1,
                    int32_t* counts, uint8_t*) {
  for (int32_t f = f0; f < f1; f++) {
    const uint64_t* wf = w + static_cast<int64_t>(f) * kw64;
    int32_t* c = counts + (f - f0) * bw;
    for (int i = 0; i < bw; i++) c[i] = 0;
    for (int32_t j = 0; j < kw64; j++) {
      const uint64_t wj = wf[j], *aj = a + static_cast<int64_t>(j) * bw;
      for (int i = 0; i < bw; i++) c[i] += __builtin_popcountll(aj[i] ^ wj);
    }
  }
}

int64_t binary_conv_tmp_bytes(int32_t kw64) {
  // counts, then room for an instruction set's own copy of the block and of
  // a filter chunk (the AVX2 kernel splits both into nibbles).
  return static_cast<int64_t>(kFilterChunk) * kBlock * 4 + static_cast<int64_t>(kw64) * kBlock * 16 +
         static_cast<int64_t>(kFilterChunk) * kw64 * 16 + 256;
}

namespace {

struct ConvShape {
  int32_t n, cin, h, w, cout, kh, kw, sh, sw, ph, pw;
  int32_t oh() const { return out_size(h, kh, sh, ph); }
  int32_t ow() const { return out_size(w, kw, sw, pw); }
  int32_t taps() const { return kh * kw; }
};

ConvShape read_shape(const int32_t* a) {
  return ConvShape{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]};
}

// One phase of a conv over one image: `tasks` calls of fn.
struct Phase {
  TaskFn fn;
  int64_t tasks;
};

// Runs a conv's phases for each of n images. With several images and
// threads, each thread takes whole images and runs their phases in order in
// its own scratch (bind(k, img, tid) points a copy of k at the image and at
// thread tid's scratch); otherwise image by image, each phase in parallel
// (bind(k, img, -1) keeps the shared scratch).
template <typename K, int N>
void over_images(const Host& host, K& k, int32_t n, void (*bind)(K&, int64_t, int), const Phase (&phases)[N]) {
  if (n > 1 && host.threads > 1) {
    struct Ctx { const K* k; void (*bind)(K&, int64_t, int); const Phase* phases; } ctx{&k, bind, phases};
    host.parallel(host.self, n, [](void* c, int64_t img, int tid) {
      const Ctx& q = *static_cast<const Ctx*>(c);
      K local = *q.k;
      q.bind(local, img, tid);
      for (int p = 0; p < N; p++)
        for (int64_t t = 0; t < q.phases[p].tasks; t++) q.phases[p].fn(&local, t, tid);
    }, &ctx);
    return;
  }
  for (int64_t img = 0; img < n; img++) {
    bind(k, img, -1);
    for (const Phase& p : phases) host.parallel(host.self, p.tasks, p.fn, &k);
  }
}

// ---- 1W/1A: XNOR + popcount -------------------------------------------------

struct BinaryConv {
  ConvShape s;
  int32_t wc, kw64, P, bw, nblk, nchunk;  // bw: pixels per block
  int32_t cg, tpw;  // bits per tap and taps per field word (see tap_bits)
  const float* xs;     // the batch
  float* ys;
  const float* x;      // current image
  float* y;            // current image
  const uint64_t *wbits, *wmask;
  const int32_t* base;  // [cout][npat]: dot = base[f][pattern] - 2 * mismatches
  const int32_t* pid;   // [P] pattern of each output pixel, or null: all 0
  int32_t npat;
  const float *scale, *bias;
  const float *in_scale, *in_shift;  // folded batch norm of the input, or null
  uint64_t *xb, *fields;
  const Host* host;
};

// Sign bits of the image, channels last: xb[p][j] bit b <-> channel 64 j + b.
// Eight pixels at a time, channels from the highest down: bits = 2 bits + neg,
// where a vector compare gives neg = -1 (all ones) for x < 0 and 0 otherwise,
// so each channel costs a compare, an add and a subtract. With a folded batch
// norm the sign is that of x * scale[c] + shift[c], rounded as the affine op
// would round it.
template <bool Affine>
inline v8u negative8(const BinaryConv& k, int32_t c, int64_t at) {
  v8f v = load8<v8f>(k.x + at);
  if (Affine) v = v * k.in_scale[c] + k.in_shift[c];
  return reinterpret_cast<v8u>(v < 0.0f);
}

template <bool Affine>
inline bool negative1(const BinaryConv& k, int32_t c, int64_t at) {
  return (Affine ? k.x[at] * k.in_scale[c] + k.in_shift[c] : k.x[at]) < 0.0f;
}

template <bool Affine>
void pack_pixels(const BinaryConv& k, int64_t p0, int64_t p1) {
  const int64_t hw = static_cast<int64_t>(k.s.h) * k.s.w;
  for (int32_t j = 0; j < k.wc; j++) {
    const int32_t c0 = 64 * j, cmid = c0 + 32 < k.s.cin ? c0 + 32 : k.s.cin, c1 = c0 + 64 < k.s.cin ? c0 + 64 : k.s.cin;
    int64_t p = p0;
    for (; p + 8 <= p1; p += 8) {
      v8u lo = v8u{}, hi = v8u{};
      for (int32_t c = cmid - 1; c >= c0; c--) lo = lo + lo - negative8<Affine>(k, c, c * hw + p);
      for (int32_t c = c1 - 1; c >= cmid; c--) hi = hi + hi - negative8<Affine>(k, c, c * hw + p);
      for (int i = 0; i < 8; i++) k.xb[(p + i) * k.wc + j] = lo[i] | static_cast<uint64_t>(hi[i]) << 32;
    }
    for (; p < p1; p++) {
      uint64_t v = 0;
      for (int32_t c = c0; c < c1; c++) v |= static_cast<uint64_t>(negative1<Affine>(k, c, c * hw + p)) << (c - c0);
      k.xb[p * k.wc + j] = v;
    }
  }
}

void pack_task(void* ctx, int64_t task, int) {
  const BinaryConv& k = *static_cast<const BinaryConv*>(ctx);
  const int64_t hw = static_cast<int64_t>(k.s.h) * k.s.w, p0 = task * 256, p1 = p0 + 256 < hw ? p0 + 256 : hw;
  if (k.in_scale) pack_pixels<true>(k, p0, p1);
  else pack_pixels<false>(k, p0, p1);
}

// Receptive fields of block `task`: fields[blk][q][i] = word q of output
// pixel p0 + i, where tap t's channels are word (t / tpw) * wc + j, shifted by
// (t % tpw) * cg bits (several taps share a word when cin <= 32); 0 where
// the tap is on the padding or the pixel is past the end. Walked tap by tap
// along row segments, so the in-image part of a segment is a strided copy.
void gather_task(void* ctx, int64_t task, int) {
  const BinaryConv& k = *static_cast<const BinaryConv*>(ctx);
  const ConvShape& s = k.s;
  const int32_t ow = s.ow(), bw = k.bw, wc = k.wc, p0 = static_cast<int32_t>(task) * bw;
  const int32_t np = k.P - p0 < bw ? k.P - p0 : bw;
  uint64_t* a = k.fields + task * k.kw64 * bw;
  for (int64_t q = 0; q < static_cast<int64_t>(k.kw64) * bw; q++) a[q] = 0;
  for (int32_t p = p0; p < p0 + np;) {
    const int32_t oy = p / ow, ox0 = p % ow, ox1 = ow - ox0 < p0 + np - p ? ow : ox0 + (p0 + np - p), i0 = p - p0;
    for (int32_t ky = 0, t = 0; ky < s.kh; ky++) {
      const int32_t iy = oy * s.sh - s.ph + ky;
      if (iy < 0 || iy >= s.h) {
        t += s.kw;
        continue;
      }
      for (int32_t kx = 0; kx < s.kw; kx++, t++) {
        // Columns of this tap inside the image: ox in [xa, xb).
        int32_t xa = ox0, xb = ox1;
        while (xa < xb && xa * s.sw - s.pw + kx < 0) xa++;
        while (xb > xa && (xb - 1) * s.sw - s.pw + kx >= s.w) xb--;
        if (xa == xb) continue;
        const int32_t shift = (t % k.tpw) * k.cg;
        for (int32_t j = 0; j < wc; j++) {
          uint64_t* dst = a + ((t / k.tpw) * wc + j) * bw + i0 - ox0;
          const uint64_t* src = k.xb + (static_cast<int64_t>(iy) * s.w + xa * s.sw - s.pw + kx) * wc + j;
          for (int32_t ox = xa; ox < xb; ox++) dst[ox] |= src[static_cast<int64_t>(ox - xa) * s.sw * wc] << shift;
        }
      }
    }
    p += ox1 - ox0;
  }
}

// Mismatch counts of filters [f0, f1) over one block, ternary weights: only
// the bits under the mask count.
void count_masked(const uint64_t* a, const uint64_t* w, const uint64_t* mask, int32_t kw64, int32_t bw, int32_t f0,
                  int32_t f1, int32_t* counts) {
  for (int32_t f = f0; f < f1; f++) {
    const uint64_t* wf = w + static_cast<int64_t>(f) * kw64;
    const uint64_t* mf = mask + static_cast<int64_t>(f) * kw64;
    int32_t* c = counts + (f - f0) * bw;
    for (int i = 0; i < bw; i++) c[i] = 0;
    for (int32_t j = 0; j < kw64; j++) {
      const uint64_t wj = wf[j], mj = mf[j], *aj = a + static_cast<int64_t>(j) * bw;
      for (int i = 0; i < bw; i++) c[i] += __builtin_popcountll((aj[i] ^ wj) & mj);
    }
  }
}

// A tap on the padding read 0 bits, so its -1 weights were counted as
// mismatches; the planner folds that, and the taps' own bit counts, into one
// constant per filter and pattern of missing taps (src/deploy/plan.ts):
// dot = base[f][pattern] - 2 * mismatches, then y = scale * dot + bias,
// rounded after each step. Most of a block's pixels share one pattern (the
// interior), so each filter fills all its dots with that pattern's base in
// one vector pass and then corrects the few edge pixels one by one; the dots
// are integers, so the order does not change them.
void count_task(void* ctx, int64_t task, int tid) {
  const BinaryConv& k = *static_cast<const BinaryConv*>(ctx);
  const int32_t blk = static_cast<int32_t>(task / k.nchunk), chunk = static_cast<int32_t>(task % k.nchunk);
  const int32_t f0 = chunk * kFilterChunk, f1 = f0 + kFilterChunk < k.s.cout ? f0 + kFilterChunk : k.s.cout;
  const int32_t bw = k.bw, p0 = blk * bw, np = k.P - p0 < bw ? k.P - p0 : bw;
  const uint64_t* a = k.fields + static_cast<int64_t>(blk) * k.kw64 * bw;
  int32_t* counts = reinterpret_cast<int32_t*>(k.host->tmp[tid]);
  uint8_t* more = k.host->tmp[tid] + kFilterChunk * kBlock * 4;
  if (k.wmask) count_masked(a, k.wbits, k.wmask, k.kw64, bw, f0, f1, counts);
  else count_kernel(a, k.wbits, k.kw64, bw, f0, f1, counts, more);
  // The common pattern q0 (that of the longest run), and the other pixels.
  int32_t q0 = k.pid ? k.pid[p0] : 0, ex_i[kBlock], ex_q[kBlock], nex = 0;
  if (k.pid) {
    for (int32_t i = 0, best = 0; i < np;) {
      int32_t e = i + 1;
      while (e < np && k.pid[p0 + e] == k.pid[p0 + i]) e++;
      if (e - i > best) best = e - i, q0 = k.pid[p0 + i];
      i = e;
    }
    for (int32_t i = 0; i < np; i++)
      if (k.pid[p0 + i] != q0) ex_i[nex] = i, ex_q[nex++] = k.pid[p0 + i];
  }
  const int64_t plane = k.P;
  for (int32_t f = f0; f < f1; f++) {
    const int32_t* bf = k.base + static_cast<int64_t>(f) * k.npat;
    const int32_t* c = counts + (f - f0) * bw;
    const int32_t b0 = bf[q0];
    int32_t dot[kBlock];
    for (int32_t i = 0; i < np; i++) dot[i] = b0 - 2 * c[i];
    for (int32_t e = 0; e < nex; e++) dot[ex_i[e]] += bf[ex_q[e]] - b0;
    const float sc = k.scale[f];
    float* yf = k.y + f * plane + p0;
    if (k.bias) {
      const float b = k.bias[f];
      for (int32_t i = 0; i < np; i++) yf[i] = sc * static_cast<float>(dot[i]) + b;
    } else {
      for (int32_t i = 0; i < np; i++) yf[i] = sc * static_cast<float>(dot[i]);
    }
  }
}

// Scratch: the image's sign bits, then the blocks' fields.
void set_scratch(BinaryConv& k, uint8_t* base) {
  k.xb = reinterpret_cast<uint64_t*>(base);
  k.fields = k.xb + static_cast<int64_t>(k.s.h) * k.s.w * k.wc;
}

void bind_image(BinaryConv& k, int64_t img, int tid) {
  k.x = k.xs + img * k.s.cin * k.s.h * k.s.w;
  k.y = k.ys + img * k.s.cout * k.P;
  // A thread's own scratch starts after its count area.
  if (tid >= 0) set_scratch(k, k.host->tmp[tid] + (binary_conv_tmp_bytes(k.kw64) + 63) / 64 * 64);
}

}  // namespace

void binary_conv(uint8_t* heap, const int32_t* a, const Host& host) {
  BinaryConv k;
  k.s = read_shape(a);
  const ConvShape& s = k.s;
  k.wc = (s.cin + 63) / 64;
  k.cg = tap_bits(s.cin);
  k.tpw = 64 / k.cg;
  k.kw64 = (s.taps() + k.tpw - 1) / k.tpw * k.wc;
  k.P = s.oh() * s.ow();
  k.bw = k.P >= kBlock ? kBlock : (k.P + 15) / 16 * 16;
  k.nblk = (k.P + k.bw - 1) / k.bw;
  k.nchunk = (s.cout + kFilterChunk - 1) / kFilterChunk;
  k.wbits = at<uint64_t>(heap, a[12]);
  k.wmask = a[13] < 0 ? nullptr : at<uint64_t>(heap, a[13]);
  k.base = at<int32_t>(heap, a[14]);
  k.npat = a[15];
  k.pid = a[20] < 0 ? nullptr : at<int32_t>(heap, a[20]);
  k.in_scale = a[21] < 0 ? nullptr : at<float>(heap, a[21]);
  k.in_shift = a[21] < 0 ? nullptr : at<float>(heap, a[22]);
  k.scale = at<float>(heap, a[16]);
  k.bias = a[17] < 0 ? nullptr : at<float>(heap, a[17]);
  k.host = &host;
  k.xs = at<float>(heap, a[11]);
  k.ys = at<float>(heap, a[18]);
  set_scratch(k, at<uint8_t>(heap, a[19]));
  const int64_t hw = static_cast<int64_t>(s.h) * s.w;
  const Phase phases[] = {{pack_task, (hw + 255) / 256}, {gather_task, k.nblk}, {count_task, static_cast<int64_t>(k.nblk) * k.nchunk}};
  over_images(host, k, s.n, bind_image, phases);
}

// ---- Float input: fixed-order multiply-add, or add / subtract for packed bits --

namespace {

constexpr int kRows = 4;     // filters per micro tile
constexpr int kCols = 16;    // pixels per micro tile
constexpr int kFChunk = 16;  // filters per task
constexpr int kPChunk = 256; // pixels per task

struct FloatConv {
  ConvShape s;
  int32_t K, P, mode, signin, wpf, nfc, npc;
  const Host* host;
  const float* xs;  // the batch
  float* ys;
  const float* x;
  float* y;
  const float* wf;
  const uint32_t *bits, *mask;
  const float *scale, *bias;
  float* col;  // [K][P]
};

// col[k][p] for k = (c, ky, kx) in PyTorch's weight order; row by row, so
// only the window's edges need bounds checks.
void im2col_task(void* ctx, int64_t task, int) {
  const FloatConv& k = *static_cast<const FloatConv*>(ctx);
  const ConvShape& s = k.s;
  const int32_t oh = s.oh(), ow = s.ow(), c = static_cast<int32_t>(task), taps = s.taps();
  const float* xc = k.x + static_cast<int64_t>(c) * s.h * s.w;
  for (int32_t t = 0; t < taps; t++) {
    const int32_t ky = t / s.kw, kx = t % s.kw;
    float* row = k.col + (static_cast<int64_t>(c) * taps + t) * k.P;
    for (int32_t oy = 0; oy < oh; oy++) {
      const int32_t iy = oy * s.sh - s.ph + ky;
      float* out = row + static_cast<int64_t>(oy) * ow;
      if (iy < 0 || iy >= s.h) {
        for (int32_t ox = 0; ox < ow; ox++) out[ox] = 0.0f;
        continue;
      }
      const float* in = xc + static_cast<int64_t>(iy) * s.w;
      for (int32_t ox = 0; ox < ow; ox++) {
        const int32_t ix = ox * s.sw - s.pw + kx;
        float v = 0.0f;
        if (ix >= 0 && ix < s.w) v = k.signin ? (in[ix] < 0.0f ? -1.0f : 1.0f) : in[ix];
        out[ox] = v;
      }
    }
  }
}

template <int MODE, int R>
void tile16(const FloatConv& k, int32_t f0, int32_t p0, float* out /*[R][16]*/) {
  v8f acc[R][2];
  for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = v8f{};
  const float* col = k.col + p0;
  for (int32_t kk = 0; kk < k.K; kk++) {
    const float* c = col + static_cast<int64_t>(kk) * k.P;
    if constexpr (MODE == 0) {
      const v8f c0 = load8<v8f>(c), c1 = load8<v8f>(c + 8);
      for (int r = 0; r < R; r++) {
        const float wv = k.wf[static_cast<int64_t>(f0 + r) * k.K + kk];
        acc[r][0] += wv * c0;
        acc[r][1] += wv * c1;
      }
    } else {
      const v8u c0 = load8<v8u>(c), c1 = load8<v8u>(c + 8);
      for (int r = 0; r < R; r++) {
        const int64_t word = static_cast<int64_t>(f0 + r) * k.wpf + (kk >> 5);
        const uint32_t flip = ((k.bits[word] >> (kk & 31)) & 1u) << 31;
        const uint32_t keep = MODE == 2 ? 0u - ((k.mask[word] >> (kk & 31)) & 1u) : ~0u;
        acc[r][0] += reinterpret_cast<v8f>((c0 ^ flip) & keep);
        acc[r][1] += reinterpret_cast<v8f>((c1 ^ flip) & keep);
      }
    }
  }
  for (int r = 0; r < R; r++) {
    __builtin_memcpy(out + r * 16, &acc[r][0], 32);
    __builtin_memcpy(out + r * 16 + 8, &acc[r][1], 32);
  }
}

template <int MODE, int R>
void tile1(const FloatConv& k, int32_t f0, int32_t p, float* out /*[R]*/) {
  float acc[R];
  for (int r = 0; r < R; r++) acc[r] = 0.0f;
  for (int32_t kk = 0; kk < k.K; kk++) {
    const float c = k.col[static_cast<int64_t>(kk) * k.P + p];
    for (int r = 0; r < R; r++) {
      if constexpr (MODE == 0) {
        acc[r] += k.wf[static_cast<int64_t>(f0 + r) * k.K + kk] * c;
      } else {
        const int64_t word = static_cast<int64_t>(f0 + r) * k.wpf + (kk >> 5);
        const uint32_t flip = ((k.bits[word] >> (kk & 31)) & 1u) << 31;
        const uint32_t keep = MODE == 2 ? 0u - ((k.mask[word] >> (kk & 31)) & 1u) : ~0u;
        acc[r] += bits_to_float((float_to_bits(c) ^ flip) & keep);
      }
    }
  }
  for (int r = 0; r < R; r++) out[r] = acc[r];
}

void store(const FloatConv& k, int32_t f, int32_t p, float acc) {
  float v = acc;
  if (k.mode != 0) v = k.scale[f] * v;
  if (k.bias) v = v + k.bias[f];
  k.y[static_cast<int64_t>(f) * k.P + p] = v;
}

template <int MODE, int R>
void rows(const FloatConv& k, int32_t f0, int32_t p0, int32_t p1) {
  float out[R * kCols];
  int32_t p = p0;
  for (; p + kCols <= p1; p += kCols) {
    tile16<MODE, R>(k, f0, p, out);
    for (int r = 0; r < R; r++)
      for (int i = 0; i < kCols; i++) store(k, f0 + r, p + i, out[r * kCols + i]);
  }
  for (; p < p1; p++) {
    tile1<MODE, R>(k, f0, p, out);
    for (int r = 0; r < R; r++) store(k, f0 + r, p, out[r]);
  }
}

template <int MODE>
void filters(const FloatConv& k, int32_t f0, int32_t f1, int32_t p0, int32_t p1) {
  int32_t f = f0;
  for (; f + kRows <= f1; f += kRows) rows<MODE, kRows>(k, f, p0, p1);
  for (; f < f1; f++) rows<MODE, 1>(k, f, p0, p1);
}

void float_conv_task(void* ctx, int64_t task, int) {
  const FloatConv& k = *static_cast<const FloatConv*>(ctx);
  const int32_t fc = static_cast<int32_t>(task / k.npc), pc = static_cast<int32_t>(task % k.npc);
  const int32_t f1 = (fc + 1) * kFChunk < k.s.cout ? (fc + 1) * kFChunk : k.s.cout;
  const int32_t p0 = pc * kPChunk, p1 = p0 + kPChunk < k.P ? p0 + kPChunk : k.P;
  const int32_t f0 = fc * kFChunk;
  if (k.mode == 0) filters<0>(k, f0, f1, p0, p1);
  else if (k.mode == 1) filters<1>(k, f0, f1, p0, p1);
  else filters<2>(k, f0, f1, p0, p1);
}

void bind_float_image(FloatConv& k, int64_t img, int tid) {
  k.x = k.xs + img * k.s.cin * k.s.h * k.s.w;
  k.y = k.ys + img * k.s.cout * k.P;
  if (tid >= 0) k.col = reinterpret_cast<float*>(k.host->tmp[tid]);  // a thread's own columns
}

}  // namespace

void float_conv(uint8_t* heap, const int32_t* a, const Host& host) {
  FloatConv k;
  k.s = read_shape(a);
  const ConvShape& s = k.s;
  k.K = s.cin * s.taps();
  k.P = s.oh() * s.ow();
  k.mode = a[12];
  k.wf = k.mode == 0 ? at<float>(heap, a[13]) : nullptr;
  k.bits = k.mode == 0 ? nullptr : at<uint32_t>(heap, a[13]);
  k.mask = k.mode == 2 ? at<uint32_t>(heap, a[14]) : nullptr;
  k.scale = k.mode == 0 ? nullptr : at<float>(heap, a[15]);
  k.bias = a[16] < 0 ? nullptr : at<float>(heap, a[16]);
  k.col = at<float>(heap, a[18]);
  k.signin = a[19];
  k.wpf = (k.K + 31) / 32;
  k.nfc = (s.cout + kFChunk - 1) / kFChunk;
  k.npc = (k.P + kPChunk - 1) / kPChunk;
  k.host = &host;
  k.xs = at<float>(heap, a[11]);
  k.ys = at<float>(heap, a[17]);
  const Phase phases[] = {{im2col_task, s.cin}, {float_conv_task, static_cast<int64_t>(k.nfc) * k.npc}};
  over_images(host, k, s.n, bind_float_image, phases);
}

}  // namespace pk
