// Small helpers shared by the packed kernels (freestanding: no library calls).
#pragma once
#include <stdint.h>

#include "pk.h"

namespace pk {

// Typed view of the heap at a byte offset from the plan.
template <typename T>
inline T* at(uint8_t* heap, int32_t offset) {
  return reinterpret_cast<T*>(heap + offset);
}

// Output size of a conv or pool along one axis.
inline int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t pad) { return (in + 2 * pad - k) / stride + 1; }

inline float bits_to_float(uint32_t u) { return __builtin_bit_cast(float, u); }
inline uint32_t float_to_bits(float f) { return __builtin_bit_cast(uint32_t, f); }

void binary_conv(uint8_t* heap, const int32_t* args, const Host& host);
void float_conv(uint8_t* heap, const int32_t* args, const Host& host);

}  // namespace pk
