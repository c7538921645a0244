// Bindings of the sparse/sparse binary ops of products.hpp: their own translation unit,
// as (10 ops x 15 value types x 2 index types) instantiations take the longest to compile.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <type_traits>
#include <utility>

#include "bindings.hpp"
#include "products.hpp"

namespace py = pybind11;
namespace ms = mlx_sparse;

namespace {

using namespace mlx_sparse::bind;

template <ms::BinOp Op>
struct BinOpTag {
  static constexpr ms::BinOp value = Op;
};

// f(BinOpTag<op>{}) for the arithmetic ops; all comparisons go to BinOpTag<ne> (they share
// one instantiation, see CompareFn).
template <class F>
decltype(auto) dispatch_binop(ms::BinOp op, F&& f) {
  switch (op) {
    case ms::BinOp::add: return f(BinOpTag<ms::BinOp::add>{});
    case ms::BinOp::sub: return f(BinOpTag<ms::BinOp::sub>{});
    case ms::BinOp::mul: return f(BinOpTag<ms::BinOp::mul>{});
    case ms::BinOp::maximum: return f(BinOpTag<ms::BinOp::maximum>{});
    case ms::BinOp::minimum: return f(BinOpTag<ms::BinOp::minimum>{});
    default: return f(BinOpTag<ms::BinOp::ne>{});
  }
}

ms::BinOp binop_arg(const std::string& op) {
  try {
    return ms::parse_binop(op);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

py::tuple bind_compressed_binop(const std::string& op_name, int64_t n_major, int64_t n_minor, const py::array& a_indptr,
                           const py::array& a_indices, const py::array& a_data, const py::array& b_indptr,
                           const py::array& b_indices, const py::array& b_data, const std::string& vtype) {
  const ms::BinOp op = binop_arg(op_name);
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major"), nm = nonnegative(n_minor, "n_minor");
  const CompressedArgs a = compressed_args(a_indptr, a_indices, a_data, info);
  const CompressedArgs b = compressed_args(b_indptr, b_indices, b_data, info);
  check_n_major(a, nM);
  check_n_major(b, nM);
  if (a.itype != b.itype) throw py::type_error("A and B index arrays must have the same dtype");
  const ms::ValueTypeInfo out_info = ms::binop_is_comparison(op) ? value_info("bool") : info;
  const int threads = ms::num_threads();
  return ms::dispatch_index(a.itype, [&](auto itag) {
    using I = typename std::decay_t<decltype(itag)>::type;
    return dispatch_signed(vtype, [&](auto vtag) {
      using V = typename std::decay_t<decltype(vtag)>::type;
      return dispatch_binop(op, [&](auto otag) -> py::tuple {
        constexpr ms::BinOp Op = std::decay_t<decltype(otag)>::value;
        {
          using F = std::conditional_t<Op == ms::BinOp::ne, ms::CompareFn<V>, ms::StaticBinOpFn<Op, V>>;
          F fn{};
          if constexpr (Op == ms::BinOp::ne) fn.op = op;
          ms::Compressed<typename F::Out, I> r;
          {
            py::gil_scoped_release nogil;
            ms::check_indptr(ptr<I>(a_indptr), nM, a.capacity);
            ms::check_indptr(ptr<I>(b_indptr), nM, b.capacity);
            r = ms::compressed_binop_fn<F, V, I>(fn, nM, nm, ptr<I>(a_indptr), ptr<I>(a_indices), ptr<V>(a_data),
                                                 ptr<I>(b_indptr), ptr<I>(b_indices), ptr<V>(b_data), threads);
          }
          return compressed_tuple(std::move(r), out_info);
        }
      });
    });
  });
}

}  // namespace

namespace mlx_sparse {
namespace bind {

void register_binop(py::module_& m) {
  m.def("compressed_binop", &bind_compressed_binop, py::arg("op"), py::arg("n_major"), py::arg("n_minor"),
        py::arg("a_indptr"), py::arg("a_indices"), py::arg("a_data"), py::arg("b_indptr"), py::arg("b_indices"),
        py::arg("b_data"), py::arg("vtype"),
        "op (add, sub, mul, maximum, minimum, ne, lt, gt, le, ge) over the union of the stored positions of "
        "two canonical operands; results that are zero (False) are not stored; comparisons give bool.");
}

}  // namespace bind
}  // namespace mlx_sparse
