// Bindings of the product and reduction kernels in products.hpp (binary ops: binop.cpp).
//
// Same rules as module.cpp: check and convert buffers, dispatch on (value type, index
// type), release the GIL around the kernel. Inputs are read in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "products.hpp"

namespace py = pybind11;
namespace ms = mlx_sparse;

namespace {

using namespace mlx_sparse::bind;

// A dense operand: `name` must be ndim-D with `rows` rows and the value dtype.
void check_dense(const py::array& x, const ms::ValueTypeInfo& info, const char* name, py::ssize_t ndim,
                 size_t rows) {
  check_values(x, info, name, ndim);
  if (static_cast<size_t>(x.shape(0)) != rows)
    throw py::value_error(std::string(name) + " must have " + std::to_string(rows) + " rows, got " +
                          std::to_string(x.shape(0)));
}

// y = A @ X (transposed: A^T @ X) for a vector (ndim 1) or a row-major matrix (ndim 2).
py::array matmat_impl(bool transposed, py::ssize_t ndim, int64_t n_major, int64_t n_minor, const py::array& indptr,
                      const py::array& indices, const py::array& data, const py::array& X,
                      const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major"), nm = nonnegative(n_minor, "n_minor");
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  check_n_major(args, nM);
  const size_t in_rows = transposed ? nM : nm, out_rows = transposed ? nm : nM;
  check_dense(X, info, ndim == 1 ? "x" : "X", ndim, in_rows);
  const size_t k = ndim == 1 ? 1 : static_cast<size_t>(X.shape(1));
  const int threads = ms::num_threads();
  return run_compressed<false>(
      indptr, args, nM, vtype,
      [&](auto vtag, auto itag) {
        using V = typename decltype(vtag)::type;
        using I = typename decltype(itag)::type;
        return transposed ? ms::compressed_matmat_t<V, I>(nM, nm, k, ptr<I>(indptr), ptr<I>(indices), ptr<V>(data),
                                                          ptr<V>(X), threads)
                          : ms::compressed_matmat<V, I>(nM, nm, k, ptr<I>(indptr), ptr<I>(indices), ptr<V>(data),
                                                        ptr<V>(X), threads);
      },
      [&](auto&& r) {
        std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(out_rows)};
        if (ndim == 2) shape.push_back(static_cast<py::ssize_t>(k));
        return to_numpy(std::move(r), value_dtype(info), shape);
      });
}

py::tuple bind_compressed_matmul(int64_t n_major, int64_t n_inner, int64_t n_minor, const py::array& a_indptr,
                            const py::array& a_indices, const py::array& a_data, const py::array& b_indptr,
                            const py::array& b_indices, const py::array& b_data, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major"), nk = nonnegative(n_inner, "n_inner"),
               nm = nonnegative(n_minor, "n_minor");
  const CompressedArgs a = compressed_args(a_indptr, a_indices, a_data, info);
  const CompressedArgs b = compressed_args(b_indptr, b_indices, b_data, info);
  check_n_major(a, nM);
  if (b.n_major != nk)
    throw py::value_error("b_indptr must have length n_inner + 1 = " + std::to_string(nk + 1) + ", got " +
                          std::to_string(b.n_major + 1));
  if (a.itype != b.itype) throw py::type_error("A and B index arrays must have the same dtype");
  const int threads = ms::num_threads();
  return ms::dispatch_index(a.itype, [&](auto itag) {
    using I = typename std::decay_t<decltype(itag)>::type;
    return ms::dispatch_value(vtype, [&](auto vtag) {
      using V = typename std::decay_t<decltype(vtag)>::type;
      ms::Compressed<V, I> r;
      {
        py::gil_scoped_release nogil;
        ms::check_indptr(ptr<I>(a_indptr), nM, a.capacity);
        ms::check_indptr(ptr<I>(b_indptr), nk, b.capacity);
        r = ms::compressed_matmul<V, I>(nM, nk, nm, ptr<I>(a_indptr), ptr<I>(a_indices), ptr<V>(a_data),
                                        ptr<I>(b_indptr), ptr<I>(b_indices), ptr<V>(b_data), threads);
      }
      return compressed_tuple(std::move(r), info);
    });
  });
}

template <ms::ReduceOp Op>
struct ReduceTag {
  static constexpr ms::ReduceOp value = Op;
};

template <class F>
decltype(auto) dispatch_reduce(const std::string& vtype, const std::string& op_name, F&& f) {
  ms::ReduceOp op;
  try {
    op = ms::parse_reduce(op_name);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  return dispatch_signed(vtype, [&](auto vtag) -> py::array {
    if (op == ms::ReduceOp::sum) return f(vtag, ReduceTag<ms::ReduceOp::sum>{});
    if (op == ms::ReduceOp::max) return f(vtag, ReduceTag<ms::ReduceOp::max>{});
    return f(vtag, ReduceTag<ms::ReduceOp::min>{});
  });
}

py::array bind_compressed_reduce_major(const std::string& op, int64_t n_major, const py::array& indptr,
                                  const py::array& data, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major");
  const ms::IndexType itype = index_type(indptr, "indptr");
  check_values(data, info, "data", 1);
  if (static_cast<size_t>(indptr.size()) != nM + 1)
    throw py::value_error("indptr must have length n_major + 1 = " + std::to_string(nM + 1) + ", got " +
                          std::to_string(indptr.size()));
  const int threads = ms::num_threads();
  return ms::dispatch_index(itype, [&](auto itag) {
    using I = typename std::decay_t<decltype(itag)>::type;
    return dispatch_reduce(vtype, op, [&](auto vtag, auto otag) {
      using V = typename std::decay_t<decltype(vtag)>::type;
      ms::Buffer<V> r;
      {
        py::gil_scoped_release nogil;
        r = ms::compressed_reduce_major<std::decay_t<decltype(otag)>::value, V, I>(nM, ptr<I>(indptr), ptr<V>(data),
                                                                    static_cast<size_t>(data.size()), threads);
      }
      return to_numpy_1d(std::move(r), value_dtype(info));
    });
  });
}

py::array bind_compressed_reduce_minor(const std::string& op, int64_t n_minor, const py::array& indices,
                                  const py::array& data, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nm = nonnegative(n_minor, "n_minor");
  const ms::IndexType itype = index_type(indices, "indices");
  check_values(data, info, "data", 1);
  if (indices.size() != data.size())
    throw py::value_error("indices and data must have the same length, got " + std::to_string(indices.size()) +
                          " and " + std::to_string(data.size()));
  const int threads = ms::num_threads();
  return ms::dispatch_index(itype, [&](auto itag) {
    using I = typename std::decay_t<decltype(itag)>::type;
    return dispatch_reduce(vtype, op, [&](auto vtag, auto otag) {
      using V = typename std::decay_t<decltype(vtag)>::type;
      ms::Buffer<V> r;
      {
        py::gil_scoped_release nogil;
        r = ms::compressed_reduce_minor<std::decay_t<decltype(otag)>::value, V, I>(nm, ptr<I>(indices), ptr<V>(data),
                                                                    static_cast<size_t>(data.size()), threads);
      }
      return to_numpy_1d(std::move(r), value_dtype(info));
    });
  });
}

// Registers one of the four sparse-dense products (matmat_impl with fixed transposed / ndim).
void def_matmat(py::module_& m, const char* name, bool transposed, py::ssize_t ndim, const char* x_name,
                const char* doc) {
  m.def(
      name,
      [transposed, ndim](int64_t n_major, int64_t n_minor, const py::array& indptr, const py::array& indices,
                         const py::array& data, const py::array& x, const std::string& vtype) {
        return matmat_impl(transposed, ndim, n_major, n_minor, indptr, indices, data, x, vtype);
      },
      py::arg("n_major"), py::arg("n_minor"), py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg(x_name),
      py::arg("vtype"), doc);
}

}  // namespace

namespace mlx_sparse {
namespace bind {

void register_products(py::module_& m) {
  register_binop(m);
  register_cg(m);
  register_arnoldi(m);
  def_matmat(m, "compressed_matvec", false, 1, "x",
             "y[i] = sum of data[p] * x[indices[p]] over slice i (length n_major); x has the value dtype. "
             "float16/bfloat16 accumulate in float32, bool is OR of ANDs, integers wrap.");
  def_matmat(m, "compressed_matvec_t", true, 1, "x",
             "y = A^T x: y[indices[p]] += data[p] * x[major(p)] (length n_minor; x has length n_major).");
  def_matmat(m, "compressed_matmat", false, 2, "X",
             "Y = A @ X for a C-contiguous X of shape (n_minor, k): Y is (n_major, k).");
  def_matmat(m, "compressed_matmat_t", true, 2, "X",
             "Y = A^T @ X for a C-contiguous X of shape (n_major, k): Y is (n_minor, k).");
  m.def("compressed_matmul", &bind_compressed_matmul, py::arg("n_major"), py::arg("n_inner"), py::arg("n_minor"),
        py::arg("a_indptr"), py::arg("a_indices"), py::arg("a_data"), py::arg("b_indptr"), py::arg("b_indices"),
        py::arg("b_data"), py::arg("vtype"),
        "C = A @ B (same compressed layout, same index dtype): canonical (indptr, indices, data), exact-zero "
        "sums not stored, each entry summed in A's entry order.");
  m.def("compressed_reduce_major", &bind_compressed_reduce_major, py::arg("op"), py::arg("n_major"), py::arg("indptr"),
        py::arg("data"), py::arg("vtype"),
        "op (sum, max, min) over the stored values of each major slice; empty slices give 0; max/min "
        "propagate nan; complex values order lexicographically (NumPy).");
  m.def("compressed_reduce_minor", &bind_compressed_reduce_minor, py::arg("op"), py::arg("n_minor"), py::arg("indices"),
        py::arg("data"), py::arg("vtype"), "op (sum, max, min) over the stored values of each minor index.");
}

}  // namespace bind
}  // namespace mlx_sparse
