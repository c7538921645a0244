// From runtime type names to C++ types: the one list of value types every kernel is
// instantiated from, and the two index types.
#pragma once

#include <complex>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "values.hpp"

namespace mlx_sparse {

template <class T>
struct Type {
  using type = T;
};

// X(vtype name, NumPy dtype kind, C++ type used to compute, NumPy dtype of the buffer)
// Signed integers compute as their unsigned twins: wrapping sums and zero tests are the
// same bit for bit, and it halves the integer instantiations. bfloat16 has no NumPy
// dtype: its raw bits travel as uint16.
#define MLX_SPARSE_VALUE_TYPES(X)                              \
  X("bool", 'b', ::mlx_sparse::bool8, "bool")                  \
  X("int8", 'i', uint8_t, "int8")                              \
  X("int16", 'i', uint16_t, "int16")                           \
  X("int32", 'i', uint32_t, "int32")                           \
  X("int64", 'i', uint64_t, "int64")                           \
  X("uint8", 'u', uint8_t, "uint8")                            \
  X("uint16", 'u', uint16_t, "uint16")                         \
  X("uint32", 'u', uint32_t, "uint32")                         \
  X("uint64", 'u', uint64_t, "uint64")                         \
  X("float16", 'f', ::mlx_sparse::float16, "float16")          \
  X("bfloat16", 'u', ::mlx_sparse::bfloat16, "uint16")         \
  X("float32", 'f', float, "float32")                          \
  X("float64", 'f', double, "float64")                         \
  X("complex64", 'c', std::complex<float>, "complex64")        \
  X("complex128", 'c', std::complex<double>, "complex128")

struct ValueTypeInfo {
  const char* name;
  char kind;        // NumPy dtype.kind of the buffer
  size_t itemsize;  // bytes per value
  const char* numpy_dtype;
};

[[noreturn]] inline void unknown_vtype(const std::string& vtype) {
  throw std::invalid_argument("unsupported vtype '" + vtype +
                              "'; expected one of bool, int8, int16, int32, int64, uint8, uint16, uint32, "
                              "uint64, float16, bfloat16, float32, float64, complex64, complex128");
}

inline ValueTypeInfo value_type_info(const std::string& vtype) {
#define MLX_SPARSE_INFO(NAME, KIND, CPP, NP) \
  if (vtype == NAME) return ValueTypeInfo{NAME, KIND, sizeof(CPP), NP};
  MLX_SPARSE_VALUE_TYPES(MLX_SPARSE_INFO)
#undef MLX_SPARSE_INFO
  unknown_vtype(vtype);
}

// f(Type<V>{}) with V the compute type of vtype.
template <class F>
decltype(auto) dispatch_value(const std::string& vtype, F&& f) {
#define MLX_SPARSE_CASE(NAME, KIND, CPP, NP) \
  if (vtype == NAME) return f(Type<CPP>{});
  MLX_SPARSE_VALUE_TYPES(MLX_SPARSE_CASE)
#undef MLX_SPARSE_CASE
  unknown_vtype(vtype);
}

// f(Type<Bytes<N>>{}) with N the width of vtype: for kernels that only move values.
template <class F>
decltype(auto) dispatch_storage(const std::string& vtype, F&& f) {
  switch (value_type_info(vtype).itemsize) {
    case 1:
      return f(Type<Bytes<1>>{});
    case 2:
      return f(Type<Bytes<2>>{});
    case 4:
      return f(Type<Bytes<4>>{});
    case 8:
      return f(Type<Bytes<8>>{});
    default:
      return f(Type<Bytes<16>>{});
  }
}

enum class IndexType { int32, int64 };

// f(Type<I>{}) with I the C++ index type.
template <class F>
decltype(auto) dispatch_index(IndexType t, F&& f) {
  if (t == IndexType::int32) return f(Type<int32_t>{});
  return f(Type<int64_t>{});
}

}  // namespace mlx_sparse
