// Arithmetic of the product kernels: how values multiply, accumulate and compare.
//
// Arith<V>::Acc is the type sums are accumulated in: float for float16/bfloat16 (rounded
// once, at the end, as the MLX-ops twin does), a byte for bool (sum = OR, product = AND),
// V itself otherwise. Integers wrap (arithmetic in the unsigned twin, as signed overflow is
// undefined). Complex products use the plain formula (as SciPy's sparsetools), not
// std::complex's inf/nan-recovering one, which is an out-of-line call per product.
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>
#include <type_traits>

#include "half.hpp"
#include "values.hpp"

namespace mlx_sparse {

template <class V, class Enable = void>
struct Arith;

template <>
struct Arith<bool8> {
  using Acc = uint8_t;
  static Acc in(bool8 a) { return a.v != 0; }
  static Acc mul(bool8 a, bool8 b) { return static_cast<Acc>((a.v != 0) & (b.v != 0)); }
  static Acc mul_acc(Acc a, bool8 b) { return static_cast<Acc>(a & (b.v != 0)); }
  static Acc add(Acc a, Acc b) { return static_cast<Acc>(a | b); }
  static bool8 out(Acc a) { return bool8{a}; }
};

template <class T>
struct Arith<T, std::enable_if_t<std::is_integral<T>::value>> {
  using Acc = T;
  // uint8/uint16 promote to (signed) int, where a product can overflow: widen to unsigned.
  using W = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;
  static Acc in(T a) { return a; }
  static Acc mul(T a, T b) { return static_cast<T>(static_cast<W>(static_cast<W>(a) * static_cast<W>(b))); }
  static Acc mul_acc(Acc a, T b) { return mul(a, b); }
  static Acc add(Acc a, Acc b) { return static_cast<T>(static_cast<W>(static_cast<W>(a) + static_cast<W>(b))); }
  static Acc sub(Acc a, Acc b) { return static_cast<T>(static_cast<W>(static_cast<W>(a) - static_cast<W>(b))); }
  static T out(Acc a) { return a; }
};

template <class T>
struct Arith<T, std::enable_if_t<std::is_floating_point<T>::value>> {
  using Acc = T;
  static Acc in(T a) { return a; }
  static Acc mul(T a, T b) { return a * b; }
  static Acc mul_acc(Acc a, T b) { return a * b; }
  static Acc add(Acc a, Acc b) { return a + b; }
  static Acc sub(Acc a, Acc b) { return a - b; }
  static T out(Acc a) { return a; }
};

template <>
struct Arith<float16> {
  using Acc = float;
  static Acc in(float16 a) { return to_float(a); }
  static Acc mul(float16 a, float16 b) { return to_float(a) * to_float(b); }
  static Acc mul_acc(Acc a, float16 b) { return a * to_float(b); }
  static Acc add(Acc a, Acc b) { return a + b; }
  static Acc sub(Acc a, Acc b) { return a - b; }
  static float16 out(Acc a) { return float16{float_to_half_bits(a)}; }
};

template <>
struct Arith<bfloat16> {
  using Acc = float;
  static Acc in(bfloat16 a) { return to_float(a); }
  static Acc mul(bfloat16 a, bfloat16 b) { return to_float(a) * to_float(b); }
  static Acc mul_acc(Acc a, bfloat16 b) { return a * to_float(b); }
  static Acc add(Acc a, Acc b) { return a + b; }
  static Acc sub(Acc a, Acc b) { return a - b; }
  static bfloat16 out(Acc a) { return bfloat16{float_to_bfloat16_bits(a)}; }
};

template <class R>
struct Arith<std::complex<R>> {
  using C = std::complex<R>;
  using Acc = C;
  static Acc in(C a) { return a; }
  static Acc mul(C a, C b) {
    return C(a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real());
  }
  static Acc mul_acc(Acc a, C b) { return mul(a, b); }
  static Acc add(Acc a, Acc b) { return C(a.real() + b.real(), a.imag() + b.imag()); }
  static Acc sub(Acc a, Acc b) { return C(a.real() - b.real(), a.imag() - b.imag()); }
  static C out(Acc a) { return a; }
};

// ---------------------------------------------------------------- ordering
// Key that orders values as NumPy does (float16/bfloat16 through float32). Not for complex.

inline uint8_t order_key(bool8 v) { return v.v != 0; }
template <class T, std::enable_if_t<std::is_arithmetic<T>::value, int> = 0>
inline T order_key(T v) {
  return v;
}
inline float order_key(float16 v) { return to_float(v); }
inline float order_key(bfloat16 v) { return to_float(v); }

template <class V>
struct is_complex : std::false_type {};
template <class R>
struct is_complex<std::complex<R>> : std::true_type {};

template <class K>
inline bool key_is_nan(K k) {
  if constexpr (std::is_floating_point<K>::value)
    return k != k;
  else
    return false;
}

// NumPy's orderings: a < b, a <= b and isnan. Complex values order lexicographically
// (real parts, then imaginary parts), as NumPy's complex comparisons and maximum do.
template <class V>
inline bool value_less(V a, V b) {
  if constexpr (is_complex<V>::value)
    return a.real() < b.real() || (a.real() == b.real() && a.imag() < b.imag());
  else
    return order_key(a) < order_key(b);
}

template <class V>
inline bool value_less_equal(V a, V b) {
  if constexpr (is_complex<V>::value)
    return a.real() < b.real() || (a.real() == b.real() && a.imag() <= b.imag());
  else
    return order_key(a) <= order_key(b);
}

template <class V>
inline bool value_is_nan(V v) {
  if constexpr (is_complex<V>::value)
    return v.real() != v.real() || v.imag() != v.imag();
  else
    return key_is_nan(order_key(v));
}

// Values equal as NumPy's == says (nan != nan, -0.0 == 0.0).
template <class V>
inline bool value_equal(V a, V b) {
  if constexpr (is_complex<V>::value)
    return a.real() == b.real() && a.imag() == b.imag();
  else
    return order_key(a) == order_key(b);
}

}  // namespace mlx_sparse
