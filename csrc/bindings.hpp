// Buffer checks and result conversions shared by the binding translation units.
//
// Bindings only check and convert buffers and dispatch on (value type, index type); the
// algorithms live in sparsetools.hpp and products.hpp.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "dispatch.hpp"
#include "sparsetools.hpp"
#include "threading.hpp"

namespace mlx_sparse {
namespace bind {

namespace py = pybind11;
namespace ms = mlx_sparse;

// ------------------------------------------------------------------ argument checks

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

inline bool native_byte_order(const py::dtype& dt) {
  const char order = dt.byteorder();
  if (order == '=' || order == '|') return true;
  const uint16_t probe = 1;
  const bool little = *reinterpret_cast<const uint8_t*>(&probe) == 1;
  return order == (little ? '<' : '>');
}

inline void check_layout(const py::array& a, const char* name, py::ssize_t ndim) {
  if (a.ndim() != ndim)
    throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) + "-D, got " +
                          std::to_string(a.ndim()) + "-D");
  if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
  if (!(a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw py::value_error(std::string(name) + " must be aligned");
}

inline ms::IndexType index_type(const py::array& a, const char* name) {
  check_layout(a, name, 1);
  const py::dtype dt = a.dtype();
  if (dt.kind() == 'i' && native_byte_order(dt)) {
    if (dt.itemsize() == 4) return ms::IndexType::int32;
    if (dt.itemsize() == 8) return ms::IndexType::int64;
  }
  throw py::type_error(std::string(name) + " must be an int32 or int64 array, got dtype " + dtype_str(a));
}

// All index arrays of one call share one dtype.
inline ms::IndexType index_types(const py::array& a, const char* a_name, const py::array& b, const char* b_name) {
  const ms::IndexType ta = index_type(a, a_name), tb = index_type(b, b_name);
  if (ta != tb)
    throw py::type_error(std::string(a_name) + " and " + b_name + " must have the same dtype, got " +
                         dtype_str(a) + " and " + dtype_str(b));
  return ta;
}

inline ms::ValueTypeInfo value_info(const std::string& vtype) {
  try {
    return ms::value_type_info(vtype);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

inline void check_values(const py::array& a, const ms::ValueTypeInfo& info, const char* name, py::ssize_t ndim) {
  check_layout(a, name, ndim);
  const py::dtype dt = a.dtype();
  if (dt.kind() != info.kind || static_cast<size_t>(dt.itemsize()) != info.itemsize || !native_byte_order(dt))
    throw py::type_error(std::string(name) + " has dtype " + dtype_str(a) + ", which does not match vtype '" +
                         info.name + "' (expected " + info.numpy_dtype + ")");
}

inline size_t nonnegative(int64_t n, const char* name) {
  if (n < 0) throw py::value_error(std::string(name) + " must be >= 0, got " + std::to_string(n));
  return static_cast<size_t>(n);
}

inline size_t dense_size(size_t rows, size_t cols, size_t itemsize) {
  if (cols != 0 && rows > (static_cast<size_t>(PY_SSIZE_T_MAX) / itemsize) / cols)
    throw py::value_error("dense shape (" + std::to_string(rows) + ", " + std::to_string(cols) + ") is too large");
  return rows * cols;
}

// Compressed-storage arguments: indptr of length n_major + 1, indices and data of equal
// length (entries past indptr[-1] are ignored).
struct CompressedArgs {
  ms::IndexType itype;
  size_t n_major;
  size_t capacity;
};

inline CompressedArgs compressed_args(const py::array& indptr, const py::array& indices, const py::array& data,
                               const ms::ValueTypeInfo& info) {
  const ms::IndexType itype = index_types(indptr, "indptr", indices, "indices");
  check_values(data, info, "data", 1);
  if (indptr.size() < 1) throw py::value_error("indptr must have at least one element");
  if (indices.size() != data.size())
    throw py::value_error("indices and data must have the same length, got " + std::to_string(indices.size()) +
                          " and " + std::to_string(data.size()));
  return {itype, static_cast<size_t>(indptr.size() - 1), static_cast<size_t>(indices.size())};
}

inline void check_n_major(const CompressedArgs& args, size_t n_major) {
  if (args.n_major != n_major)
    throw py::value_error("indptr must have length n_major + 1 = " + std::to_string(n_major + 1) + ", got " +
                          std::to_string(args.n_major + 1));
}

template <class T>
const T* ptr(const py::array& a) {
  return static_cast<const T*>(a.data());
}

// ------------------------------------------------------------------ results

// Hands a kernel's buffer to NumPy without copying; NumPy frees it.
template <class T>
py::array to_numpy(ms::Buffer<T>&& buf, const py::dtype& dt, std::vector<py::ssize_t> shape) {
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t step = dt.itemsize();
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = step;
    step *= shape[i];
  }
  py::capsule owner(buf.data(), [](void* p) { ms::free_block(p); });
  void* p = buf.release();
  return py::array(dt, std::move(shape), std::move(strides), p, owner);
}

template <class T>
py::array to_numpy_1d(ms::Buffer<T>&& buf, const py::dtype& dt) {
  const auto n = static_cast<py::ssize_t>(buf.size());
  return to_numpy(std::move(buf), dt, {n});
}

template <class I>
inline py::dtype index_dtype() {
  return py::dtype::of<I>();
}

inline py::dtype value_dtype(const ms::ValueTypeInfo& info) { return py::dtype(std::string(info.numpy_dtype)); }

template <class V, class I>
py::tuple compressed_tuple(ms::Compressed<V, I>&& r, const ms::ValueTypeInfo& info) {
  py::array indptr = to_numpy_1d(std::move(r.indptr), index_dtype<I>());
  py::array indices = to_numpy_1d(std::move(r.indices), index_dtype<I>());
  py::array data = to_numpy_1d(std::move(r.data), value_dtype(info));
  return py::make_tuple(indptr, indices, data);
}

// The shape the compressed-matrix bindings share: dispatch on the index type and on the
// value type (by_storage: the type values are moved as, for kernels that only move them;
// else the type they compute in), check indptr and run kernel(vtag, itag) without the
// GIL, then turn its result into Python objects with convert (GIL held).
template <bool by_storage, class Kernel, class Convert>
auto run_compressed(const py::array& indptr, const CompressedArgs& args, size_t n_major, const std::string& vtype,
                    Kernel&& kernel, Convert&& convert) {
  return ms::dispatch_index(args.itype, [&](auto itag) {
    using I = typename decltype(itag)::type;
    auto run = [&](auto vtag) {
      decltype(kernel(vtag, itag)) r;
      {
        py::gil_scoped_release nogil;
        ms::check_indptr(ptr<I>(indptr), n_major, args.capacity);
        r = kernel(vtag, itag);
      }
      return convert(std::move(r));
    };
    if constexpr (by_storage)
      return ms::dispatch_storage(vtype, run);
    else
      return ms::dispatch_value(vtype, run);
  });
}

// dispatch_value, except that signed integers keep their signed type (orderings need it).
template <class F>
decltype(auto) dispatch_signed(const std::string& vtype, F&& f) {
  if (vtype == "int8") return f(ms::Type<int8_t>{});
  if (vtype == "int16") return f(ms::Type<int16_t>{});
  if (vtype == "int32") return f(ms::Type<int32_t>{});
  if (vtype == "int64") return f(ms::Type<int64_t>{});
  return ms::dispatch_value(vtype, std::forward<F>(f));
}

inline bool is_complex_vtype(const std::string& vtype) { return vtype == "complex64" || vtype == "complex128"; }

// Registration of the bindings defined in other translation units.
void register_products(py::module_& m);
void register_binop(py::module_& m);
void register_cg(py::module_& m);
void register_arnoldi(py::module_& m);

}  // namespace bind
}  // namespace mlx_sparse
