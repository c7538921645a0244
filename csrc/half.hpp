// 16-bit floating point value types (IEEE binary16 and bfloat16) stored as raw bits,
// with conversions to and from float32 that round to nearest, ties to even.
//
// Arithmetic on these types goes through float32: convert both operands, operate,
// round the result back. This is what NumPy does for float16 element-wise ops.
#pragma once

#include <cstdint>
#include <cstring>

namespace mlx_sparse {

inline uint32_t float_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

inline float bits_float(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// ---------------------------------------------------------------- binary16

inline float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1fu) {  // inf / nan: keep the payload
    return bits_float(sign | 0x7f800000u | (mantissa << 13));
  }
  if (exponent == 0) {  // zero / subnormal: value is mantissa * 2^-24, exact in float32
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;
    return bits_float(sign | float_bits(magnitude));
  }
  // normal: rebias the exponent from 15 to 127
  return bits_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

inline uint16_t float_to_half_bits(float x) {
  const uint32_t f = float_bits(x);
  const uint16_t sign = static_cast<uint16_t>((f >> 16) & 0x8000u);
  uint32_t a = f & 0x7fffffffu;
  if (a >= 0x7f800000u) {  // inf stays inf; nan stays a (quiet) nan
    const uint16_t payload = a > 0x7f800000u ? static_cast<uint16_t>(0x200u | ((a >> 13) & 0x3ffu)) : 0;
    return static_cast<uint16_t>(sign | 0x7c00u | payload);
  }
  if (a >= 0x477ff000u) {  // >= 65520 (halfway above the largest half, 65504): rounds to inf
    return static_cast<uint16_t>(sign | 0x7c00u);
  }
  if (a < 0x38800000u) {  // below 2^-14: result is subnormal (or zero, or the smallest normal)
    // Adding 0.5 puts the value's 2^-24 grid on float32's last mantissa bit, so the
    // hardware add does the round-to-nearest-even for us.
    const float shifted = bits_float(a) + 0.5f;
    return static_cast<uint16_t>(sign | (float_bits(shifted) - 0x3f000000u));
  }
  // normal: round the 13 dropped mantissa bits to nearest even, then rebias 127 -> 15;
  // a carry out of the mantissa correctly bumps the exponent.
  a += 0xfffu + ((a >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((a - (112u << 23)) >> 13));
}

// ---------------------------------------------------------------- bfloat16

inline float bfloat16_bits_to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }

inline uint16_t float_to_bfloat16_bits(float x) {
  const uint32_t f = float_bits(x);
  if ((f & 0x7fffffffu) > 0x7f800000u) {  // nan: truncate and force quiet so it stays nan
    return static_cast<uint16_t>((f >> 16) | 0x40u);
  }
  // round to nearest even on the low 16 bits; overflow carries into inf correctly
  return static_cast<uint16_t>((f + 0x7fffu + ((f >> 16) & 1u)) >> 16);
}

// ---------------------------------------------------------------- value types

struct float16 {
  uint16_t bits;
};

struct bfloat16 {
  uint16_t bits;
};

inline float to_float(float16 v) { return half_bits_to_float(v.bits); }
inline float to_float(bfloat16 v) { return bfloat16_bits_to_float(v.bits); }

inline float16 operator+(float16 a, float16 b) { return float16{float_to_half_bits(to_float(a) + to_float(b))}; }
inline bfloat16 operator+(bfloat16 a, bfloat16 b) {
  return bfloat16{float_to_bfloat16_bits(to_float(a) + to_float(b))};
}

// +0 and -0 are the zeros; nan is not
inline bool is_zero(float16 v) { return (v.bits & 0x7fffu) == 0; }
inline bool is_zero(bfloat16 v) { return (v.bits & 0x7fffu) == 0; }

}  // namespace mlx_sparse
