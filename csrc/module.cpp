// mlx_sparse._native: Python bindings of the conversion kernels in sparsetools.hpp (the
// products are bound in products.cpp, registered from here).
//
// This file only checks and converts buffers and dispatches on (value type, index type);
// the algorithms live in sparsetools.hpp. Inputs are read in place (no copies), the GIL is
// released while kernels run, and outputs are the kernels' own buffers handed to NumPy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "dispatch.hpp"
#include "sparsetools.hpp"
#include "threading.hpp"

namespace py = pybind11;
namespace ms = mlx_sparse;

namespace {

using namespace mlx_sparse::bind;

// ------------------------------------------------------------------ bound functions

py::tuple coo_to_compressed(int64_t n_major, int64_t n_minor, const py::array& major, const py::array& minor,
                            const py::array& data, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major"), nm = nonnegative(n_minor, "n_minor");
  const ms::IndexType itype = index_types(major, "major", minor, "minor");
  check_values(data, info, "data", 1);
  const size_t nnz = static_cast<size_t>(major.size());
  if (static_cast<size_t>(minor.size()) != nnz || static_cast<size_t>(data.size()) != nnz)
    throw py::value_error("major, minor and data must have the same length");
  const int threads = ms::num_threads();
  return ms::dispatch_index(itype, [&](auto itag) {
    using I = typename decltype(itag)::type;
    return ms::dispatch_value(vtype, [&](auto vtag) {
      using V = typename decltype(vtag)::type;
      ms::Compressed<V, I> r;
      {
        py::gil_scoped_release nogil;
        r = ms::coo_to_compressed<V, I>(nM, nm, ptr<I>(major), ptr<I>(minor), ptr<V>(data), nnz, threads);
      }
      return compressed_tuple(std::move(r), info);
    });
  });
}

py::tuple compressed_transpose(int64_t n_major, int64_t n_minor, const py::array& indptr, const py::array& indices,
                               const py::array& data, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major"), nm = nonnegative(n_minor, "n_minor");
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  check_n_major(args, nM);
  const int threads = ms::num_threads();
  return run_compressed<true>(
      indptr, args, nM, vtype,
      [&](auto stag, auto itag) {
        using S = typename decltype(stag)::type;
        using I = typename decltype(itag)::type;
        return ms::compressed_transpose<S, I>(nM, nm, ptr<I>(indptr), ptr<I>(indices), ptr<S>(data), threads);
      },
      [&](auto&& r) { return compressed_tuple(std::move(r), info); });
}

py::tuple stack_minor(int64_t n_major, const std::vector<py::array>& indptrs, const std::vector<py::array>& indices,
                      const std::vector<py::array>& data, const std::vector<int64_t>& offsets,
                      const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major"), nb = indptrs.size();
  if (nb == 0 || indices.size() != nb || data.size() != nb || offsets.size() != nb)
    throw py::value_error("stack_minor: indptrs, indices, data and offsets must be non-empty lists of one length");
  std::vector<CompressedArgs> args;
  for (size_t b = 0; b < nb; ++b) {
    args.push_back(compressed_args(indptrs[b], indices[b], data[b], info));
    check_n_major(args.back(), nM);
    if (args[b].itype != args[0].itype) throw py::type_error("stack_minor: every block needs the same index dtype");
  }
  const int threads = ms::num_threads();
  return ms::dispatch_index(args[0].itype, [&](auto itag) {
    using I = typename decltype(itag)::type;
    return ms::dispatch_storage(vtype, [&](auto stag) {
      using S = typename decltype(stag)::type;
      std::vector<const I*> ptrs, idxs;
      std::vector<const S*> vals;
      std::vector<I> shifts;
      for (size_t b = 0; b < nb; ++b) {
        ptrs.push_back(ptr<I>(indptrs[b]));
        idxs.push_back(ptr<I>(indices[b]));
        vals.push_back(ptr<S>(data[b]));
        shifts.push_back(static_cast<I>(offsets[b]));
      }
      ms::Compressed<S, I> r;
      {
        py::gil_scoped_release nogil;
        for (size_t b = 0; b < nb; ++b) ms::check_indptr(ptrs[b], nM, args[b].capacity);
        r = ms::stack_minor<S, I>(nM, ptrs, idxs, vals, shifts, threads);
      }
      return compressed_tuple(std::move(r), info);
    });
  });
}

// rows as an int64 array of indices in [0, n) (the checks take_major, take_minor and
// sample_values share).
const int64_t* major_positions(const py::array& rows, const char* name, size_t n_major) {
  check_layout(rows, name, 1);
  if (rows.dtype().kind() != 'i' || rows.dtype().itemsize() != 8 || !native_byte_order(rows.dtype()))
    throw py::type_error(std::string(name) + " must be an int64 array, got dtype " + dtype_str(rows));
  const int64_t* r = ptr<int64_t>(rows);
  for (py::ssize_t k = 0; k < rows.size(); ++k)
    if (r[k] < 0 || static_cast<uint64_t>(r[k]) >= n_major)
      throw py::index_error(std::string(name) + "[" + std::to_string(k) + "] = " + std::to_string(r[k]) +
                            " is out of range");
  return r;
}

py::array sample_values(const py::array& indptr, const py::array& indices, const py::array& data,
                        const py::array& rows, const py::array& cols, bool sorted, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  const int64_t* r = major_positions(rows, "rows", args.n_major);
  check_layout(cols, "cols", 1);
  if (cols.dtype().kind() != 'i' || cols.dtype().itemsize() != 8 || cols.size() != rows.size())
    throw py::type_error("cols must be an int64 array as long as rows");
  const int threads = ms::num_threads();
  return run_compressed<false>(
      indptr, args, args.n_major, vtype,
      [&](auto vtag, auto itag) {
        using V = typename decltype(vtag)::type;
        using I = typename decltype(itag)::type;
        return ms::sample_values<V, I>(ptr<I>(indptr), ptr<I>(indices), ptr<V>(data), r, ptr<int64_t>(cols),
                                       static_cast<size_t>(rows.size()), sorted, threads);
      },
      [&](auto&& res) { return to_numpy_1d(std::move(res), value_dtype(info)); });
}

// A sorting kernel's (indices, data) as NumPy arrays.
template <class S, class I>
py::tuple entries_tuple(ms::SliceEntries<S, I>&& r, const ms::ValueTypeInfo& info) {
  return py::make_tuple(to_numpy_1d(std::move(r.indices), index_dtype<I>()),
                        to_numpy_1d(std::move(r.data), value_dtype(info)));
}

// A selection kernel's (indptr as int64, indices, data) as NumPy arrays.
template <class S, class I>
py::tuple selection_tuple(ms::Selection<S, I>&& res, const ms::ValueTypeInfo& info) {
  return py::make_tuple(to_numpy_1d(std::move(std::get<0>(res)), index_dtype<int64_t>()),
                        to_numpy_1d(std::move(std::get<1>(res)), index_dtype<I>()),
                        to_numpy_1d(std::move(std::get<2>(res)), value_dtype(info)));
}

// A selection kernel run on the compressed arguments: kernel(Type<S>, Type<I>) returns
// its Selection<S, I> (values moved by their storage type).
template <class K>
py::tuple run_selection(const py::array& indptr, const CompressedArgs& args, const std::string& vtype,
                        const ms::ValueTypeInfo& info, K&& kernel) {
  return run_compressed<true>(indptr, args, args.n_major, vtype, kernel,
                              [&](auto&& res) { return selection_tuple(std::move(res), info); });
}

py::tuple take_minor(int64_t n_minor, const py::array& indptr, const py::array& indices, const py::array& data,
                     const py::array& pos, bool reverse, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nm = nonnegative(n_minor, "n_minor");
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  const int64_t* p = major_positions(pos, "pos", nm);
  const int threads = ms::num_threads();
  return run_selection(indptr, args, vtype, info, [&](auto stag, auto itag) {
    using S = typename decltype(stag)::type;
    using I = typename decltype(itag)::type;
    return ms::take_minor<S, I>(args.n_major, nm, ptr<I>(indptr), ptr<I>(indices), ptr<S>(data), p,
                                static_cast<size_t>(pos.size()), reverse, threads);
  });
}

py::tuple take_major(const py::array& indptr, const py::array& indices, const py::array& data, const py::array& rows,
                     const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  const int64_t* r = major_positions(rows, "rows", args.n_major);
  const int threads = ms::num_threads();
  return run_selection(indptr, args, vtype, info, [&](auto stag, auto itag) {
    using S = typename decltype(stag)::type;
    using I = typename decltype(itag)::type;
    return ms::take_major<S, I>(ptr<I>(indptr), ptr<I>(indices), ptr<S>(data), r,
                                static_cast<size_t>(rows.size()), threads);
  });
}

py::tuple sort_indices(const py::array& indptr, const py::array& indices, const py::array& data,
                       const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  const int threads = ms::num_threads();
  return run_compressed<true>(
      indptr, args, args.n_major, vtype,
      [&](auto stag, auto itag) {
        using S = typename decltype(stag)::type;
        using I = typename decltype(itag)::type;
        return ms::sort_indices<S, I>(args.n_major, ptr<I>(indptr), ptr<I>(indices), ptr<S>(data), threads);
      },
      [&](auto&& r) { return entries_tuple(std::move(r), info); });
}

// sum_duplicates and eliminate_zeros: same arguments, same result shape.
template <class Kernel>
py::tuple rebuild_slices(const py::array& indptr, const py::array& indices, const py::array& data,
                         const std::string& vtype, Kernel kernel) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  const int threads = ms::num_threads();
  return run_compressed<false>(
      indptr, args, args.n_major, vtype,
      [&](auto vtag, auto itag) {
        using V = typename decltype(vtag)::type;
        using I = typename decltype(itag)::type;
        return kernel(vtag, args.n_major, ptr<I>(indptr), ptr<I>(indices), ptr<V>(data), threads);
      },
      [&](auto&& r) { return compressed_tuple(std::move(r), info); });
}

py::tuple sum_duplicates(const py::array& indptr, const py::array& indices, const py::array& data,
                         const std::string& vtype, bool assume_sorted) {
  return rebuild_slices(indptr, indices, data, vtype, [assume_sorted](auto vtag, size_t n, const auto* ip,
                                                                      const auto* ix, const auto* d, int threads) {
    using V = typename decltype(vtag)::type;
    using I = std::remove_const_t<std::remove_pointer_t<decltype(ip)>>;
    return ms::sum_duplicates<V, I>(n, ip, ix, d, threads, !assume_sorted);
  });
}

py::tuple eliminate_zeros(const py::array& indptr, const py::array& indices, const py::array& data,
                          const std::string& vtype) {
  return rebuild_slices(indptr, indices, data, vtype, [](auto vtag, size_t n, const auto* ip, const auto* ix,
                                                         const auto* d, int threads) {
    using V = typename decltype(vtag)::type;
    using I = std::remove_const_t<std::remove_pointer_t<decltype(ip)>>;
    return ms::eliminate_zeros<V, I>(n, ip, ix, d, threads);
  });
}

py::array compressed_to_dense(int64_t n_major, int64_t n_minor, const py::array& indptr, const py::array& indices,
                              const py::array& data, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major"), nm = nonnegative(n_minor, "n_minor");
  dense_size(nM, nm, info.itemsize);
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  check_n_major(args, nM);
  const int threads = ms::num_threads();
  return run_compressed<false>(
      indptr, args, nM, vtype,
      [&](auto vtag, auto itag) {
        using V = typename decltype(vtag)::type;
        using I = typename decltype(itag)::type;
        return ms::compressed_to_dense<V, I>(nM, nm, ptr<I>(indptr), ptr<I>(indices), ptr<V>(data), threads);
      },
      [&](auto&& r) {
        return to_numpy(std::move(r), value_dtype(info), {static_cast<py::ssize_t>(nM), static_cast<py::ssize_t>(nm)});
      });
}

py::array coo_to_dense(int64_t n_rows, int64_t n_cols, const py::array& row, const py::array& col,
                       const py::array& data, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nr = nonnegative(n_rows, "n_rows"), nc = nonnegative(n_cols, "n_cols");
  dense_size(nr, nc, info.itemsize);
  const ms::IndexType itype = index_types(row, "row", col, "col");
  check_values(data, info, "data", 1);
  const size_t nnz = static_cast<size_t>(row.size());
  if (static_cast<size_t>(col.size()) != nnz || static_cast<size_t>(data.size()) != nnz)
    throw py::value_error("row, col and data must have the same length");
  const int threads = ms::num_threads();
  return ms::dispatch_index(itype, [&](auto itag) {
    using I = typename decltype(itag)::type;
    return ms::dispatch_value(vtype, [&](auto vtag) {
      using V = typename decltype(vtag)::type;
      ms::Buffer<V> r;
      {
        py::gil_scoped_release nogil;
        r = ms::coo_to_dense<V, I>(nr, nc, ptr<I>(row), ptr<I>(col), ptr<V>(data), nnz, threads);
      }
      return to_numpy(std::move(r), value_dtype(info), {static_cast<py::ssize_t>(nr), static_cast<py::ssize_t>(nc)});
    });
  });
}

py::tuple dense_to_compressed(const py::array& dense, const std::string& vtype, const std::string& index_dtype_name) {
  const ms::ValueTypeInfo info = value_info(vtype);
  check_values(dense, info, "dense", 2);
  ms::IndexType itype;
  if (index_dtype_name == "int32")
    itype = ms::IndexType::int32;
  else if (index_dtype_name == "int64")
    itype = ms::IndexType::int64;
  else
    throw py::value_error("index_dtype must be 'int32' or 'int64', got '" + index_dtype_name + "'");
  const size_t nr = static_cast<size_t>(dense.shape(0)), nc = static_cast<size_t>(dense.shape(1));
  const int threads = ms::num_threads();
  return ms::dispatch_index(itype, [&](auto itag) {
    using I = typename decltype(itag)::type;
    return ms::dispatch_value(vtype, [&](auto vtag) {
      using V = typename decltype(vtag)::type;
      ms::Compressed<V, I> r;
      {
        py::gil_scoped_release nogil;
        r = ms::dense_to_compressed<V, I>(nr, nc, ptr<V>(dense), threads);
      }
      return compressed_tuple(std::move(r), info);
    });
  });
}

py::array compressed_diagonal(int64_t k, int64_t n_major, int64_t n_minor, const py::array& indptr,
                              const py::array& indices, const py::array& data, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nM = nonnegative(n_major, "n_major"), nm = nonnegative(n_minor, "n_minor");
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  check_n_major(args, nM);
  const int threads = ms::num_threads();
  return run_compressed<false>(
      indptr, args, nM, vtype,
      [&](auto vtag, auto itag) {
        using V = typename decltype(vtag)::type;
        using I = typename decltype(itag)::type;
        return ms::compressed_diagonal<V, I>(k, nM, nm, ptr<I>(indptr), ptr<I>(indices), ptr<V>(data), threads);
      },
      [&](auto&& r) { return to_numpy_1d(std::move(r), value_dtype(info)); });
}

py::tuple triangular_diagonal(int64_t n, const py::array& indptr, const py::array& indices,
                              const py::array& data, bool lower, bool unit, const std::string& vtype) {
  const ms::ValueTypeInfo info = value_info(vtype);
  const size_t nn = nonnegative(n, "n");
  const CompressedArgs args = compressed_args(indptr, indices, data, info);
  check_n_major(args, nn);
  const int threads = ms::num_threads();
  return run_compressed<false>(
      indptr, args, nn, vtype,
      [&](auto vtag, auto itag) {
        using V = typename decltype(vtag)::type;
        using I = typename decltype(itag)::type;
        return ms::triangular_diagonal<V, I>(nn, ptr<I>(indptr), ptr<I>(indices), ptr<V>(data), lower, unit,
                                             threads);
      },
      [&](auto&& r) { return py::make_tuple(to_numpy_1d(std::move(r.first), value_dtype(info)), r.second); });
}

py::array expand_indptr(const py::array& indptr, int64_t nnz) {
  const ms::IndexType itype = index_type(indptr, "indptr");
  if (indptr.size() < 1) throw py::value_error("indptr must have at least one element");
  const size_t n = nonnegative(nnz, "nnz");
  const size_t n_major = static_cast<size_t>(indptr.size() - 1);
  const int threads = ms::num_threads();
  return ms::dispatch_index(itype, [&](auto itag) {
    using I = typename decltype(itag)::type;
    ms::Buffer<I> r;
    {
      py::gil_scoped_release nogil;
      if (ms::check_indptr(ptr<I>(indptr), n_major, n) != n)
        throw std::invalid_argument("indptr[-1] must equal nnz (" + std::to_string(n) + ")");
      r = ms::expand_indptr<I>(n_major, ptr<I>(indptr), threads);
    }
    return to_numpy_1d(std::move(r), index_dtype<I>());
  });
}

void set_num_threads(int n) {
  if (n < 1) throw py::value_error("set_num_threads: n must be >= 1, got " + std::to_string(n));
  ms::set_num_threads(n);
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  ms::init_threads_from_env();
  // MLX_SPARSE_BUFFER_CACHE_MB=<n>: idle output memory kept for reuse (see buffer.hpp)
  if (const char* env = std::getenv("MLX_SPARSE_BUFFER_CACHE_MB")) {
    char* end = nullptr;
    const long long mb = std::strtoll(env, &end, 10);
    if (end != env && mb >= 0) ms::BlockCache::instance().set_limit(static_cast<size_t>(mb) << 20);
  }
  m.doc() =
      "CPU kernels of mlx_sparse on NumPy buffers. 'major' is the compressed axis (rows of CSR, "
      "columns of CSC). Index arrays are int32 or int64 (one dtype per call); vtype names the value "
      "type (bfloat16 values travel as their uint16 bits). Outputs are new arrays.";

  m.def("coo_to_compressed", &coo_to_compressed, py::arg("n_major"), py::arg("n_minor"), py::arg("major"),
        py::arg("minor"), py::arg("data"), py::arg("vtype"),
        "COO -> canonical compressed (indptr, indices, data): sorted by (major, minor), duplicates summed "
        "in input order, zero sums and explicit zeros kept.");
  m.def("sample_values", &sample_values, py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("rows"),
        py::arg("cols"), py::arg("sorted"), py::arg("vtype"),
        "Values at cells (rows[q], cols[q]) (int64 arrays) of a compressed matrix: duplicates summed, zero "
        "where nothing is stored; sorted: slices known sorted (bisection).");
  m.def("take_minor", &take_minor, py::arg("n_minor"), py::arg("indptr"), py::arg("indices"), py::arg("data"),
        py::arg("pos"), py::arg("reverse"), py::arg("vtype"),
        "Minor coordinates pos[0], pos[1], ... (int64, repeats allowed) renumbered 0, 1, ...: each entry gives "
        "one entry per output position of its minor index (increasing); reverse: slices written back to front. "
        "(indptr as int64, indices, data).");
  m.def("take_major", &take_major, py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("rows"),
        py::arg("vtype"),
        "Major slices rows[0], rows[1], ... (int64, repeats allowed) of a compressed matrix: (indptr as int64, "
        "indices, data).");
  m.def("stack_minor", &stack_minor, py::arg("n_major"), py::arg("indptrs"), py::arg("indices"), py::arg("data"),
        py::arg("offsets"), py::arg("vtype"),
        "Compressed blocks of equal n_major stacked along the minor axis (hstack of CSR, vstack of CSC): "
        "slice r is every block's slice r in block order, minor indices shifted by the block's offset. "
        "One index dtype for every block; the caller checks that the shifted indices fit it.");
  m.def("compressed_transpose", &compressed_transpose, py::arg("n_major"), py::arg("n_minor"), py::arg("indptr"),
        py::arg("indices"), py::arg("data"), py::arg("vtype"),
        "CSR <-> CSC: (indptr_t, indices_t, data_t) with n_minor + 1 slices, each listing its entries by "
        "increasing major; duplicates kept.");
  m.def("sort_indices", &sort_indices, py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("vtype"),
        "(indices, data) with each slice stably sorted by minor index; duplicates kept.");
  m.def("sum_duplicates", &sum_duplicates, py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("vtype"),
        py::arg("assume_sorted") = true,
        "(indptr, indices, data) with adjacent equal minor indices of each slice summed (zero sums kept). "
        "assume_sorted=False first sorts each slice stably by minor index, in the same pass (= sort_indices "
        "then sum_duplicates, one output instead of two): the result is canonical.");
  m.def("eliminate_zeros", &eliminate_zeros, py::arg("indptr"), py::arg("indices"), py::arg("data"),
        py::arg("vtype"), "(indptr, indices, data) without the entries equal to zero (-0.0 is zero, nan is not).");
  m.def("compressed_to_dense", &compressed_to_dense, py::arg("n_major"), py::arg("n_minor"), py::arg("indptr"),
        py::arg("indices"), py::arg("data"), py::arg("vtype"),
        "Dense C-contiguous (n_major, n_minor) array; duplicates summed.");
  m.def("coo_to_dense", &coo_to_dense, py::arg("n_rows"), py::arg("n_cols"), py::arg("row"), py::arg("col"),
        py::arg("data"), py::arg("vtype"), "Dense C-contiguous (n_rows, n_cols) array; duplicates summed in input order.");
  m.def("dense_to_compressed", &dense_to_compressed, py::arg("dense"), py::arg("vtype"), py::arg("index_dtype"),
        "(indptr, indices, data) of the nonzero entries of a 2-D C-contiguous array, row-major order; "
        "index_dtype is 'int32' or 'int64'.");
  m.def("compressed_diagonal", &compressed_diagonal, py::arg("k"), py::arg("n_major"), py::arg("n_minor"),
        py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("vtype"),
        "Diagonal k (entries with minor - major == k), duplicates summed.");
  m.def("triangular_diagonal", &triangular_diagonal, py::arg("n"), py::arg("indptr"), py::arg("indices"),
        py::arg("data"), py::arg("lower"), py::arg("unit"), py::arg("vtype"),
        "(diagonal, status) of a canonical square CSR matrix read as triangular, from each row's end entry: "
        "status 2 if a row ends on the other side, else 1 if a diagonal entry is 0 (not with unit), else 0.");
  m.def("expand_indptr", &expand_indptr, py::arg("indptr"), py::arg("nnz"),
        "The major index of every entry (length nnz, dtype of indptr).");
  ms::bind::register_products(m);
  m.def("num_threads", &ms::num_threads, "Threads the kernels may use.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Sets the threads the kernels may use (default: hardware threads, or MLX_SPARSE_NUM_THREADS).");
}
