// Conjugate gradients on a CSR matrix, the whole loop in C++ (float32 / float64).
//
// The same iteration as scipy.sparse.linalg.cg (no preconditioner, or Jacobi: z = r / diag):
//   r = b - A x; repeat: stop if |r| < atol; z = M r; rho = r.z; p = z + (rho / rho_prev) p
//   (p = z at first); q = A p; alpha = rho / p.q; x += alpha p; r -= alpha q.
// Three parallel passes per iteration, fused so each vector is streamed once: (1) p from
// z and the previous p (double-buffered, so rows can read neighbours' old p while writing
// their own new p) and q = A p with p.q; (2) x, r, z updates with |r|^2 and r.z.
//
// Determinism: dot products are summed per fixed chunk of kChunk rows (threading.hpp's
// Chunks), chunks then added in order, so results do not depend on the thread count.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "threading.hpp"

namespace mlx_sparse {

struct CgResult {
  size_t iterations = 0;
  bool converged = false;
  double residual = 0;  // |r| at exit
};

template <class V, class I>
class CgSolver {
 public:
  static constexpr size_t kChunk = 4096;

  CgSolver(size_t n, const I* indptr, const I* indices, const V* data, const V* diag_inv, int max_threads)
      : n_(n),
        ptr_(indptr),
        idx_(indices),
        val_(data),
        dinv_(diag_inv),
        // Partitioning: whole chunks per thread, cut to equal nnz (+ 2 per row).
        chunks_(n, kChunk, threads_for(static_cast<size_t>(indptr[n]) + 4 * n, max_threads),
                [&](size_t r) { return static_cast<uint64_t>(indptr[r] - indptr[0]) + 2 * static_cast<uint64_t>(r); }),
        partial_a_(chunks_.count(), 0),
        partial_b_(chunks_.count(), 0) {}

  // Solves in place: x holds x0 on entry. Stops when |r| < atol or after maxiter iterations.
  CgResult solve(const V* b, V* x, double atol, size_t maxiter) {
    std::vector<V> r(n_), z(dinv_ ? n_ : 0), p0(n_), p1(n_), q(n_);
    V* zp = dinv_ ? z.data() : r.data();
    // r = b - A x; z = M r; |r|^2 and r.z
    chunks_.run([&](size_t lo, size_t hi, size_t c) {
      V rr = 0, rz = 0;
      for (size_t i = lo; i < hi; ++i) {
        V s = 0;
        for (size_t k = static_cast<size_t>(ptr_[i]), e = static_cast<size_t>(ptr_[i + 1]); k < e; ++k)
          s += val_[k] * x[static_cast<size_t>(idx_[k])];
        set_residual(i, b[i] - s, r.data(), z.data(), rr, rz);
      }
      partial_a_[c] = rr;
      partial_b_[c] = rz;
    });
    V rr = sum(partial_a_), rz = sum(partial_b_);
    CgResult res;
    V rho_prev = 0;
    V* p_old = p0.data();
    V* p_new = p1.data();
    for (size_t it = 0;; ++it) {
      res.residual = std::sqrt(static_cast<double>(rr));
      res.iterations = it;
      if (it == maxiter) return res;  // as SciPy: no test after the last iteration
      if (res.residual < atol) {
        res.converged = true;
        return res;
      }
      const V rho = rz;
      const V beta = it == 0 ? V(0) : rho / rho_prev;
      const bool first = it == 0;
      // pass 1: p_new = z + beta p_old (rows read neighbours through the same formula);
      // q = A p_new; p.q
      chunks_.run([&](size_t lo, size_t hi, size_t c) {
        V pq = 0;
        for (size_t i = lo; i < hi; ++i) {
          V s = 0;
          for (size_t k = static_cast<size_t>(ptr_[i]), e = static_cast<size_t>(ptr_[i + 1]); k < e; ++k) {
            const size_t j = static_cast<size_t>(idx_[k]);
            s += val_[k] * (first ? zp[j] : zp[j] + beta * p_old[j]);
          }
          const V pi = first ? zp[i] : zp[i] + beta * p_old[i];
          p_new[i] = pi;
          q[i] = s;
          pq += pi * s;
        }
        partial_a_[c] = pq;
      });
      const V alpha = rho / sum(partial_a_);
      // pass 2: x += alpha p; r -= alpha q; z = M r; |r|^2; r.z
      chunks_.run([&](size_t lo, size_t hi, size_t c) {
        V rr_c = 0, rz_c = 0;
        for (size_t i = lo; i < hi; ++i) {
          x[i] += alpha * p_new[i];
          set_residual(i, r[i] - alpha * q[i], r.data(), z.data(), rr_c, rz_c);
        }
        partial_a_[c] = rr_c;
        partial_b_[c] = rz_c;
      });
      rr = sum(partial_a_);
      rz = sum(partial_b_);
      rho_prev = rho;
      std::swap(p_old, p_new);
    }
  }

 private:
  static V sum(const std::vector<V>& parts) {
    V s = 0;
    for (V v : parts) s += v;
    return s;
  }

  size_t n_;
  const I* ptr_;
  const I* idx_;
  const V* val_;
  const V* dinv_;

  // r[i] = ri and z[i] = M ri (Jacobi: dinv ri; without M, z is r), adding ri^2 and
  // ri * zi to the chunk's |r|^2 and r.z.
  void set_residual(size_t i, V ri, V* r, V* z, V& rr, V& rz) const {
    r[i] = ri;
    const V zi = dinv_ ? ri * dinv_[i] : ri;
    if (dinv_) z[i] = zi;
    rr += ri * ri;
    rz += ri * zi;
  }
  Chunks chunks_;
  std::vector<V> partial_a_, partial_b_;
};

}  // namespace mlx_sparse
