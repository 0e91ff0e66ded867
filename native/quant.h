// Quantizer kernels (quant.cc); semantics as in src/native/api.ts.
#pragma once
#include <cstdint>

namespace eb {

// Rank codes per group: ranks [0, low) -> -1, [low, high) -> 0, the rest +1,
// ordering by IEEE-754 total order with ties to the lower index. O(n) per group.
void rank_codes(int groups, int group_size, const float* latent, int low, int high, int8_t* codes);
void sign_codes(int64_t len, const float* latent, int8_t* codes);
// IR-Net's balanced weights, per filter of n: codes sign(w - mean), the
// power-of-two factor of mean |w - mean| / std, and the gradient through the
// standardisation (std unbiased, 1 where a filter has no spread).
void balanced_codes(int filters, int n, const float* latent, int8_t* codes);
void balanced_scales(int filters, int n, const float* latent, float* factors);
void balanced_backward(int filters, int n, const float* latent, const float* g, float* out);
void codes_to_weights(int groups, int group_size, const int8_t* codes, const float* scales, float* out);
void channel_scale(int n, int c, int hw, const float* x, const float* scales, float* y);
void sign_forward(int64_t len, const float* x, float* y);
// mode 0: clipped STE, 1: ApproxSign (2 - 2|x| on |x| < 1), 2: IR-Net's EDE,
// k t (1 - tanh^2(t x)) with the t and k of the current epoch.
void sign_backward(int64_t len, const float* x, const float* dy, int mode, float* dx, bool accumulate,
                   float t = 1.0f, float k = 1.0f);

}  // namespace eb
