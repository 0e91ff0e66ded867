// Binary (XNOR + popcount) kernels (xnor.cc); semantics as in src/native/api.ts.
#pragma once
#include <cstdint>

#include "kernels.h"

namespace eb {

// Most kernel taps (kh * kw) the binary conv handles: a border pixel keeps
// its missing taps in one 64-bit mask.
constexpr int kXnorMaxTaps = 64;

// y = conv(sign(x), scales[co] * codes) + bias, exactly as the float conv of
// those operands would give it up to rounding: x is binarised by its sign
// (x < 0 -> -1, else +1, so sign(0) = +1), codes are -1/+1 per weight in the
// [cout, cin, kh, kw] layout, zero padding contributes 0. Requires
// kh * kw <= kXnorMaxTaps; bias may be null.
void xnor_conv2d_forward(const ConvGeom& g, const float* x, const int8_t* codes, const float* scales,
                         const float* bias, float* y);

}  // namespace eb
