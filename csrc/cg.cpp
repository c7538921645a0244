// Bindings of the C++ solver kernels: the conjugate-gradient loop (cg.hpp, float32 and
// float64) and the sparse triangular solve (trisolve.hpp).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <complex>
#include <cstring>
#include <string>
#include <type_traits>

#include "bindings.hpp"
#include "cg.hpp"
#include "products.hpp"
#include "trisolve.hpp"

namespace py = pybind11;
namespace ms = mlx_sparse;

namespace {

using namespace mlx_sparse::bind;

// diag_inv (None, or a vector of n values of info's type) as an array; an empty array
// (a default py::array: not a null handle) for None.
py::array optional_diag_inv(const py::object& diag_inv, const ms::ValueTypeInfo& info, size_t n,
                            const std::string& who) {
  py::array dinv;
  if (diag_inv.is_none()) return dinv;
  dinv = py::array::ensure(diag_inv);
  if (!dinv) throw py::type_error(who + ": diag_inv must be an array or None");
  check_values(dinv, info, "diag_inv", 1);
  if (static_cast<size_t>(dinv.size()) != n) throw py::value_error(who + ": diag_inv must have length n");
  return dinv;
}

py::tuple bind_cg(const py::array& indptr, const py::array& indices, const py::array& data, const py::array& b,
                  const py::array& x0, double atol, int64_t maxiter, const py::object& diag_inv,
                  const std::string& vtype) {
  if (vtype != "float32" && vtype != "float64")
    throw py::type_error("cg: vtype must be float32 or float64, got '" + vtype + "'");
  const ms::ValueTypeInfo info = value_info(vtype);
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  const size_t n = args.n_major;
  check_values(b, info, "b", 1);
  check_values(x0, info, "x0", 1);
  if (static_cast<size_t>(b.size()) != n || static_cast<size_t>(x0.size()) != n)
    throw py::value_error("cg: b and x0 must have length n = " + std::to_string(n));
  const bool jacobi = !diag_inv.is_none();
  const py::array dinv = optional_diag_inv(diag_inv, info, n, "cg");
  const size_t iters = nonnegative(maxiter, "maxiter");
  const int threads = ms::num_threads();
  return ms::dispatch_index(args.itype, [&](auto itag) {
    using I = typename std::decay_t<decltype(itag)>::type;
    auto solve = [&](auto vtag) {
      using V = typename std::decay_t<decltype(vtag)>::type;
      ms::Buffer<V> x(n);
      ms::CgResult res;
      {
        py::gil_scoped_release nogil;
        ms::check_indptr(ptr<I>(indptr), n, args.capacity);
        ms::check_minor_indices(ptr<I>(indices), static_cast<size_t>(ptr<I>(indptr)[n]), n, threads, "cg");
        if (n) std::memcpy(x.data(), ptr<V>(x0), n * sizeof(V));
        ms::CgSolver<V, I> solver(n, ptr<I>(indptr), ptr<I>(indices), ptr<V>(data),
                                  jacobi ? ptr<V>(dinv) : nullptr, threads);
        res = solver.solve(ptr<V>(b), x.data(), atol, iters);
      }
      return py::make_tuple(to_numpy_1d(std::move(x), value_dtype(info)), res.converged, res.iterations,
                            res.residual);
    };
    if (vtype == "float32") return solve(ms::Type<float>{});
    return solve(ms::Type<double>{});
  });
}

py::array bind_triangular_solve(const py::array& indptr, const py::array& indices, const py::array& data,
                                const py::object& diag_inv, const py::array& b, bool lower,
                                const std::string& vtype) {
  if (vtype != "float32" && vtype != "float64" && vtype != "complex64")
    throw py::type_error("triangular_solve: vtype must be float32, float64 or complex64, got '" + vtype + "'");
  const ms::ValueTypeInfo info = value_info(vtype);
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  const size_t n = args.n_major;
  check_values(b, info, "b", 2);
  if (static_cast<size_t>(b.shape(0)) != n)
    throw py::value_error("triangular_solve: b must have n = " + std::to_string(n) + " rows");
  const size_t k = static_cast<size_t>(b.shape(1));
  const bool scaled = !diag_inv.is_none();
  const py::array dinv = optional_diag_inv(diag_inv, info, n, "triangular_solve");
  const int threads = ms::num_threads();
  return ms::dispatch_index(args.itype, [&](auto itag) {
    using I = typename std::decay_t<decltype(itag)>::type;
    auto solve = [&](auto vtag) {
      using V = typename std::decay_t<decltype(vtag)>::type;
      ms::Buffer<V> x(n * k);
      {
        py::gil_scoped_release nogil;
        ms::check_indptr(ptr<I>(indptr), n, args.capacity);
        ms::check_minor_indices(ptr<I>(indices), static_cast<size_t>(ptr<I>(indptr)[n]), n, threads,
                                "triangular_solve");
        if (n * k) std::memcpy(x.data(), ptr<V>(b), n * k * sizeof(V));
        ms::triangular_solve<V, I>(n, ptr<I>(indptr), ptr<I>(indices), ptr<V>(data), scaled ? ptr<V>(dinv) : nullptr,
                                   lower, x.data(), k);
      }
      return to_numpy(std::move(x), value_dtype(info), {static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(k)});
    };
    if (vtype == "float32") return solve(ms::Type<float>{});
    if (vtype == "float64") return solve(ms::Type<double>{});
    return solve(ms::Type<std::complex<float>>{});
  });
}

}  // namespace

namespace mlx_sparse {
namespace bind {

void register_cg(py::module_& m) {
  m.def("triangular_solve", &bind_triangular_solve, py::arg("indptr"), py::arg("indices"), py::arg("data"),
        py::arg("diag_inv"), py::arg("b"), py::arg("lower"), py::arg("vtype"),
        "x with T x = b (b: n x k) by substitution, row by row: T the square CSR matrix's strictly lower "
        "(lower) or upper part plus the diagonal 1 / diag_inv (None: a unit diagonal). Entries on the diagonal "
        "and on the other side are not read. float32, float64, complex64.");
  m.def("compressed_cg", &bind_cg, py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("b"), py::arg("x0"),
        py::arg("atol"), py::arg("maxiter"), py::arg("diag_inv"), py::arg("vtype"),
        "Conjugate gradients on the square CSR matrix (scipy.sparse.linalg.cg's iteration): from x0, "
        "stops when |r| < atol (absolute; the caller folds rtol * |b| in) or after maxiter iterations. "
        "diag_inv: None or 1 / diag(A) for Jacobi preconditioning. float32/float64 only. Returns (x, "
        "converged, iterations, |r|).");
}

}  // namespace bind
}  // namespace mlx_sparse
