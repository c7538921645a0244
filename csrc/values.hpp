// Value types the kernels compute with, their two operations (sum of duplicates and the
// zero test), and the byte-width storage types used by purely structural kernels.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "half.hpp"

namespace mlx_sparse {

// NumPy's bool: one byte. Kept distinct from uint8_t because its sum is a logical OR.
struct bool8 {
  uint8_t v;
};

// ---------------------------------------------------------------- value_add
// Sum of two stored values with NumPy's semantics for the type.

inline bool8 value_add(bool8 a, bool8 b) { return bool8{static_cast<uint8_t>((a.v | b.v) != 0)}; }

// Integers wrap around; done in the unsigned type because signed overflow is undefined.
template <class T, std::enable_if_t<std::is_integral<T>::value, int> = 0>
inline T value_add(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}

inline float value_add(float a, float b) { return a + b; }
inline double value_add(double a, double b) { return a + b; }
inline float16 value_add(float16 a, float16 b) { return a + b; }
inline bfloat16 value_add(bfloat16 a, bfloat16 b) { return a + b; }
template <class R>
inline std::complex<R> value_add(std::complex<R> a, std::complex<R> b) {
  return a + b;
}

// ---------------------------------------------------------------- value_is_zero
// What eliminate_zeros drops and fromdense skips: -0.0 is zero, nan is not, a complex
// value is zero only when both parts are.

inline bool value_is_zero(bool8 v) { return v.v == 0; }
template <class T, std::enable_if_t<std::is_integral<T>::value, int> = 0>
inline bool value_is_zero(T v) {
  return v == 0;
}
inline bool value_is_zero(float v) { return v == 0.0f; }
inline bool value_is_zero(double v) { return v == 0.0; }
inline bool value_is_zero(float16 v) { return is_zero(v); }
inline bool value_is_zero(bfloat16 v) { return is_zero(v); }
template <class R>
inline bool value_is_zero(std::complex<R> v) {
  return v.real() == R(0) && v.imag() == R(0);
}

// ---------------------------------------------------------------- storage
// Structural kernels (transpose, sort, gather) only move values, so they are instantiated
// per byte width, not per value type. may_alias: these words are read and written over
// buffers that other code in the same function accesses through the real value type.

#if defined(__GNUC__) || defined(__clang__)
#define MLX_SPARSE_MAY_ALIAS __attribute__((__may_alias__))
#else
#define MLX_SPARSE_MAY_ALIAS
#endif

template <size_t N>
struct MLX_SPARSE_MAY_ALIAS Bytes {
  static_assert(N == 1 || N == 2 || N == 4 || N == 8 || N == 16, "unsupported value width");
  using Word = std::conditional_t<
      N == 1, uint8_t, std::conditional_t<N == 2, uint16_t, std::conditional_t<N == 4, uint32_t, uint64_t>>>;
  Word w[N <= 8 ? 1 : N / 8];
};

template <class V>
using storage_t = Bytes<sizeof(V)>;

static_assert(sizeof(bool8) == 1 && sizeof(float16) == 2 && sizeof(bfloat16) == 2, "packed value types");
static_assert(sizeof(Bytes<16>) == 16 && sizeof(std::complex<double>) == 16, "storage widths");

}  // namespace mlx_sparse
