// Dense steps of the Arnoldi process on GMRES's Krylov basis (float32, float64, complex64,
// complex128): Gram-Schmidt orthogonalisation of a new vector against the basis rows, and
// the combination sum_r y_r V_r that forms the solution update.
//
// Why not BLAS: between these steps the solver runs our threaded sparse products, and a
// threaded BLAS leaves its own threads spinning after every call; on a machine with few
// cores they take the cores our product threads need (gmres ran at half speed with
// OpenBLAS's default threads). Here everything runs on our threads (threading.hpp).
//
// The basis V is k row-major rows of length n (row stride n). Products run in fixed chunks
// of kKrylovChunk entries, each dot product summed in kLanes interleaved partial sums (so
// the compiler vectorises it without reassociating) and the chunks' partials added in chunk
// order: results do not depend on the thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "arith.hpp"
#include "threading.hpp"

namespace mlx_sparse {

constexpr size_t kKrylovChunk = 4096;
constexpr size_t kLanes = 8;

template <class V>
inline V conj_value(V a) {
  return a;
}
template <class R>
inline std::complex<R> conj_value(std::complex<R> a) {
  return {a.real(), -a.imag()};
}

template <class V>
inline double real_part(V a) {
  return static_cast<double>(a);
}
template <class R>
inline double real_part(std::complex<R> a) {
  return static_cast<double>(a.real());
}

// sum_i conj(a[i]) b[i], i in [0, m).
template <class V>
V dot_conj(const V* a, const V* b, size_t m) {
  using A = Arith<V>;
  V acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= m; i += kLanes)
    for (size_t l = 0; l < kLanes; ++l) acc[l] = A::add(acc[l], A::mul(conj_value(a[i + l]), b[i + l]));
  for (size_t l = 0; i < m; ++i, ++l) acc[l] = A::add(acc[l], A::mul(conj_value(a[i]), b[i]));
  V s = acc[0];
  for (size_t l = 1; l < kLanes; ++l) s = A::add(s, acc[l]);
  return s;
}

// out[i] -= sum_r c[r] V_r[lo + i] (out[i] += ... when Add), i in [0, m), rows r in [0, k);
// four rows per sweep over out.
template <bool Add, class V>
void axpy_rows(const V* basis, size_t k, size_t n, const V* c, size_t lo, size_t m, V* out) {
  using A = Arith<V>;
  size_t r = 0;
  for (; r + 4 <= k; r += 4) {
    const V* v0 = basis + r * n + lo;
    const V* v1 = v0 + n;
    const V* v2 = v1 + n;
    const V* v3 = v2 + n;
    const V c0 = c[r], c1 = c[r + 1], c2 = c[r + 2], c3 = c[r + 3];
    for (size_t i = 0; i < m; ++i) {
      const V s = A::add(A::add(A::mul(c0, v0[i]), A::mul(c1, v1[i])),
                         A::add(A::mul(c2, v2[i]), A::mul(c3, v3[i])));
      out[i] = Add ? A::add(out[i], s) : A::sub(out[i], s);
    }
  }
  for (; r < k; ++r) {
    const V* v = basis + r * n + lo;
    const V cr = c[r];
    for (size_t i = 0; i < m; ++i) out[i] = Add ? A::add(out[i], A::mul(cr, v[i])) : A::sub(out[i], A::mul(cr, v[i]));
  }
}

struct GramSchmidtNorms {
  double before = 0;  // |w|
  double after = 0;   // |out| after orthogonalisation (before normalising)
};

// Classical Gram-Schmidt: h = V^H w, out = w - V^T h; repeated once on out (h summed) when |out| < reorth |w| (the Daniel-Gragg-Kaufman-Stewart test: one pass leaves a
// component ~ eps |w| / |out| along V). reorth = 0: one pass. With normalize, out is then
// scaled by 1 / |out| when that is finite. w may be out; neither may overlap V.
template <class V>
GramSchmidtNorms gram_schmidt(const V* basis, size_t k, size_t n, const V* w, V* out, double reorth, bool normalize,
                              V* h, int max_threads) {
  using A = Arith<V>;
  const Chunks chunks(n, kKrylovChunk, threads_for((k + 2) * n, max_threads));
  const size_t stride = k + 1;
  std::vector<V> part(chunks.count() * stride);
  std::vector<V> g(stride);
  // g = V^H src and, in slot k, |src|^2: per-chunk partials added in chunk order
  auto project = [&](const V* src) {
    chunks.run([&](size_t lo, size_t hi, size_t c) {
      V* p = &part[c * stride];
      for (size_t r = 0; r < k; ++r) p[r] = dot_conj(basis + r * n + lo, src + lo, hi - lo);
      p[k] = dot_conj(src + lo, src + lo, hi - lo);
    });
    std::fill(g.begin(), g.end(), V(0));
    for (size_t c = 0; c < chunks.count(); ++c)
      for (size_t r = 0; r < stride; ++r) g[r] = A::add(g[r], part[c * stride + r]);
  };
  // out = src - V^T g; returns |out|
  auto subtract = [&](const V* src) {
    chunks.run([&](size_t lo, size_t hi, size_t c) {
      if (out != src) std::copy(src + lo, src + hi, out + lo);
      axpy_rows<false>(basis, k, n, g.data(), lo, hi - lo, out + lo);
      part[c * stride] = dot_conj(out + lo, out + lo, hi - lo);
    });
    double s = 0;
    for (size_t c = 0; c < chunks.count(); ++c) s += real_part(part[c * stride]);
    return std::sqrt(s);
  };
  GramSchmidtNorms norms;
  project(w);
  norms.before = std::sqrt(real_part(g[k]));
  norms.after = subtract(w);
  std::copy(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(k), h);
  if (norms.after < reorth * norms.before) {
    project(out);
    norms.after = subtract(out);
    for (size_t r = 0; r < k; ++r) h[r] = A::add(h[r], g[r]);
  }
  if (normalize) {
    const double inv = 1.0 / norms.after;
    if (std::isfinite(inv)) {
      using R = decltype(std::abs(V{}));
      const R s = static_cast<R>(inv);
      chunks.run([&](size_t lo, size_t hi, size_t) {
        for (size_t i = lo; i < hi; ++i) out[i] *= s;
      });
    }
  }
  return norms;
}

// out = sum_r y[r] V_r over rows [0, k).
template <class V>
void combine_rows(const V* basis, size_t k, size_t n, const V* y, V* out, int max_threads) {
  const Chunks chunks(n, kKrylovChunk, threads_for((k + 1) * n, max_threads));
  chunks.run([&](size_t lo, size_t hi, size_t) {
    std::fill(out + lo, out + hi, V(0));
    axpy_rows<true>(basis, k, n, y, lo, hi - lo, out + lo);
  });
}

}  // namespace mlx_sparse
