// Sparse triangular solve by substitution, row by row (the CPU's sequential order):
// the whole solve is one pass over the matrix, where a level-scheduled solve pays per
// level (a chain-like matrix has as many levels as rows).
#pragma once

#include <cstddef>

namespace mlx_sparse {

// x (n x k, row-major) holds b on entry and the solution of T x = b on return. T is the
// CSR matrix (indptr, indices, data) read as triangular: lower, row i's entries in
// columns j < i, else j > i; entries in column i itself and on the other side are not
// read (the caller has checked there are none of value != 0). dinv: 1 / diagonal, or
// nullptr for a unit diagonal. Duplicates add up.
template <class V, class I>
void triangular_solve(size_t n, const I* indptr, const I* indices, const V* data, const V* dinv,
                      bool lower, V* x, size_t k) {
  for (size_t step = 0; step < n; ++step) {
    const size_t i = lower ? step : n - 1 - step;
    V* xi = x + i * k;
    for (I p = indptr[i]; p < indptr[i + 1]; ++p) {
      const size_t j = static_cast<size_t>(indices[p]);
      if (lower ? j >= i : j <= i) continue;
      const V a = data[p];
      const V* xj = x + j * k;
      for (size_t c = 0; c < k; ++c) xi[c] -= a * xj[c];
    }
    if (dinv)
      for (size_t c = 0; c < k; ++c) xi[c] *= dinv[i];
  }
}

}  // namespace mlx_sparse
