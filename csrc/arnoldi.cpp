// Bindings of the Arnoldi steps in arnoldi.hpp (gmres's Krylov basis on the CPU).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <complex>
#include <string>
#include <type_traits>
#include <utility>

#include "arnoldi.hpp"
#include "bindings.hpp"

namespace py = pybind11;
namespace ms = mlx_sparse;

namespace {

using namespace mlx_sparse::bind;

// f(Type<V>{}) for the value types of a Krylov basis.
template <class F>
decltype(auto) dispatch_inexact(const std::string& vtype, const char* who, F&& f) {
  if (vtype == "float32") return f(ms::Type<float>{});
  if (vtype == "float64") return f(ms::Type<double>{});
  if (vtype == "complex64") return f(ms::Type<std::complex<float>>{});
  if (vtype == "complex128") return f(ms::Type<std::complex<double>>{});
  throw py::type_error(std::string(who) + ": vtype must be float32, float64, complex64 or complex128, got '" + vtype +
                       "'");
}

// basis: (k, n) values; returns (k, n).
std::pair<size_t, size_t> basis_shape(const py::array& basis, const ms::ValueTypeInfo& info) {
  check_values(basis, info, "basis", 2);
  return {static_cast<size_t>(basis.shape(0)), static_cast<size_t>(basis.shape(1))};
}

void check_vector(const py::array& a, const ms::ValueTypeInfo& info, const char* name, size_t n) {
  check_values(a, info, name, 1);
  if (static_cast<size_t>(a.size()) != n)
    throw py::value_error(std::string(name) + " must have length n = " + std::to_string(n) + ", got " +
                          std::to_string(a.size()));
}

bool overlaps(const py::array& a, const py::array& b) {
  const char* pa = static_cast<const char*>(a.data());
  const char* pb = static_cast<const char*>(b.data());
  return pa < pb + b.nbytes() && pb < pa + a.nbytes();
}

py::tuple bind_gram_schmidt(const py::array& basis, const py::array& w, py::array& out, double reorth,
                            bool normalize, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const std::pair<size_t, size_t> shape = basis_shape(basis, info);
  const size_t k = shape.first, n = shape.second;
  check_vector(w, info, "w", n);
  check_vector(out, info, "out", n);
  if (!out.writeable()) throw py::value_error("gram_schmidt: out must be writeable");
  if (overlaps(out, basis) || overlaps(w, basis))
    throw py::value_error("gram_schmidt: w and out must not overlap the basis");
  if (w.data() != out.data() && overlaps(w, out))
    throw py::value_error("gram_schmidt: w must be out or not overlap it");
  const int threads = ms::num_threads();
  return dispatch_inexact(vtype, "gram_schmidt", [&](auto vtag) {
    using V = typename std::decay_t<decltype(vtag)>::type;
    ms::Buffer<V> h(k);
    ms::GramSchmidtNorms norms;
    {
      py::gil_scoped_release nogil;
      norms = ms::gram_schmidt<V>(ptr<V>(basis), k, n, ptr<V>(w), static_cast<V*>(out.mutable_data()), reorth,
                                  normalize, h.data(), threads);
    }
    return py::make_tuple(to_numpy_1d(std::move(h), value_dtype(info)), norms.before, norms.after);
  });
}

py::array bind_combine_rows(const py::array& basis, const py::array& y, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const std::pair<size_t, size_t> shape = basis_shape(basis, info);
  const size_t k = shape.first, n = shape.second;
  check_vector(y, info, "y", k);
  const int threads = ms::num_threads();
  return dispatch_inexact(vtype, "combine_rows", [&](auto vtag) {
    using V = typename std::decay_t<decltype(vtag)>::type;
    ms::Buffer<V> out(n);
    {
      py::gil_scoped_release nogil;
      ms::combine_rows<V>(ptr<V>(basis), k, n, ptr<V>(y), out.data(), threads);
    }
    return to_numpy_1d(std::move(out), value_dtype(info));
  });
}

}  // namespace

namespace mlx_sparse {
namespace bind {

void register_arnoldi(py::module_& m) {
  m.def("gram_schmidt", &bind_gram_schmidt, py::arg("basis"), py::arg("w"), py::arg("out"), py::arg("reorth"),
        py::arg("normalize"), py::arg("vtype"),
        "Classical Gram-Schmidt of w against the rows of basis (k x n, orthonormal), written to out (may be w): "
        "h = basis^H w, out = w - basis^T h, repeated once when |out| < reorth |w|; with normalize, out /= |out| "
        "when finite. Returns (h, |w|, |out| before normalising).");
  m.def("combine_rows", &bind_combine_rows, py::arg("basis"), py::arg("y"), py::arg("vtype"),
        "y @ basis: sum_r y[r] basis[r] over the k rows of basis (k x n).");
}

}  // namespace bind
}  // namespace mlx_sparse
