// CPU product, element-wise and reduction kernels: sparse x dense (matvec, matmat and
// their transposes), sparse x sparse (SpGEMM), canonical sparse/sparse binary ops and
// reductions along either axis. Vocabulary as in sparsetools.hpp ("major", "minor",
// "slice"); arithmetic in arith.hpp.
//
// Determinism: results never depend on the number of threads. Products along the major
// axis give each output value to one thread, which sums in entry order. Scatters along the
// minor axis (A^T x, column sums) accumulate into B partial arrays, B fixed by the problem
// size alone (not by the thread count), and sum the partials in block order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "arith.hpp"
#include "buffer.hpp"
#include "sparsetools.hpp"
#include "threading.hpp"

namespace mlx_sparse {

// minor index out of range anywhere in [0, nnz): throws.
template <class I>
void check_minor_indices(const I* indices, size_t nnz, size_t n_minor, int max_threads, const char* who) {
  const int T = threads_for(nnz, max_threads);
  std::vector<char> bad(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    bool b = false;
    for (size_t p = even_split(nnz, T, t), e = even_split(nnz, T, t + 1); p < e; ++p)
      b |= as_u64(indices[p]) >= n_minor;
    bad[t] = b;
  });
  for (char b : bad)
    if (b) throw std::invalid_argument(std::string(who) + ": minor index out of range (negative, or not below the shape)");
}

// An index used to address an array of n slots: out-of-range values (negative ones are
// huge as unsigned) are flagged and replaced by 0, so the loop never reads or writes out of
// bounds and the caller throws afterwards. Fused into the kernels' loops: a separate
// validation pass would cost a full extra read of the indices.
template <class I>
inline size_t checked_slot(I i, size_t n, bool& bad) {
  const uint64_t j = as_u64(i);
  const bool oob = j >= n;
  bad |= oob;
  return oob ? 0 : static_cast<size_t>(j);
}

inline void throw_if_any(const std::vector<char>& bad, const char* who) {
  for (char b : bad)
    if (b) throw std::invalid_argument(std::string(who) + ": minor index out of range (negative, or not below the shape)");
}

// Number of partial arrays for a scatter along the minor axis: a function of the problem
// size only. Partials pay off when there are several entries per partial slot.
inline size_t scatter_blocks(size_t nnz, size_t slots) {
  if (nnz < kMinParallelWork) return 1;
  return std::max<size_t>(1, std::min<size_t>(8, nnz / (4 * std::max<size_t>(slots, 1))));
}

// ================================================================= sparse x dense

// Row r of A @ X into y (k columns; K > 0: k fixed at compile time, so the accumulators
// live in registers). Returns false if an index was out of range.
template <size_t K, class V, class I>
bool matmat_rows(size_t r0, size_t r1, size_t n_minor, size_t k, const I* indptr, const I* indices, const V* data,
                 const V* X, V* y) {
  using A = Arith<V>;
  using Acc = typename A::Acc;
  bool bad = false;
  if constexpr (K == 1) {
    for (size_t r = r0; r < r1; ++r) {
      Acc s{};
      for (size_t p = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]); p < e; ++p)
        s = A::add(s, A::mul(data[p], X[checked_slot(indices[p], n_minor, bad)]));
      y[r] = A::out(s);
    }
  } else {
    constexpr size_t kMax = K == 0 ? 16 : K;
    Acc acc[kMax];
    for (size_t r = r0; r < r1; ++r) {
      V* yr = y + r * k;
      for (size_t c0 = 0; c0 < k; c0 += kMax) {  // columns in chunks of kMax
        const size_t w = K == 0 ? std::min(kMax, k - c0) : K;
        for (size_t c = 0; c < w; ++c) acc[c] = Acc{};
        for (size_t p = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]); p < e; ++p) {
          const V a = data[p];
          const V* x = X + checked_slot(indices[p], n_minor, bad) * k + c0;
          for (size_t c = 0; c < w; ++c) acc[c] = A::add(acc[c], A::mul(a, x[c]));
        }
        for (size_t c = 0; c < w; ++c) yr[c0 + c] = A::out(acc[c]);
      }
    }
  }
  return !bad;
}

// y[i, :] = sum over slice i of data[p] * X[indices[p], :]; X is (n_minor, k) row-major,
// y (n_major, k). k == 1 is the matvec. Entries past indptr[n_major] are ignored.
template <class V, class I>
Buffer<V> compressed_matmat(size_t n_major, size_t n_minor, size_t k, const I* indptr, const I* indices,
                            const V* data, const V* X, int max_threads) {
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  if (nnz > 0 && n_minor == 0) throw std::invalid_argument("matmat: minor index out of range (the shape has no columns)");
  Buffer<V> out(n_major * k);
  V* y = out.data();
  // Partitioning: majors cut into T ranges of equal nnz (+ 1 per row); rows independent.
  const int T = threads_for((nnz + n_major) * k, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, 1);
  std::vector<char> bad(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    const size_t r0 = bounds[t], r1 = bounds[t + 1];
    bool ok;
    if (k == 1) {
      ok = matmat_rows<1>(r0, r1, n_minor, k, indptr, indices, data, X, y);
    } else if constexpr (std::is_floating_point<V>::value) {  // fixed widths: float32/float64 only (compile time)
      switch (k) {
        case 2: ok = matmat_rows<2>(r0, r1, n_minor, k, indptr, indices, data, X, y); break;
        case 4: ok = matmat_rows<4>(r0, r1, n_minor, k, indptr, indices, data, X, y); break;
        case 8: ok = matmat_rows<8>(r0, r1, n_minor, k, indptr, indices, data, X, y); break;
        default: ok = matmat_rows<0>(r0, r1, n_minor, k, indptr, indices, data, X, y);
      }
    } else {
      ok = matmat_rows<0>(r0, r1, n_minor, k, indptr, indices, data, X, y);
    }
    bad[t] = !ok;
  });
  throw_if_any(bad, "matmat");
  return out;
}

// Majors [r0, r1) of A^T @ X scattered into acc (n_minor x k accumulators).
template <size_t K, class V, class I>
bool matmat_t_rows(size_t r0, size_t r1, size_t n_minor, size_t k, const I* indptr, const I* indices,
                   const V* data, const V* X, typename Arith<V>::Acc* acc) {
  using A = Arith<V>;
  bool bad = false;
  const size_t kk = K == 0 ? k : K;
  for (size_t r = r0; r < r1; ++r) {
    const V* x = X + r * kk;
    for (size_t p = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]); p < e; ++p) {
      const V a = data[p];
      auto* yc = acc + checked_slot(indices[p], n_minor, bad) * kk;
      for (size_t c = 0; c < kk; ++c) yc[c] = A::add(yc[c], A::mul(a, x[c]));
    }
  }
  return !bad;
}

// y[indices[p], :] += data[p] * X[major(p), :]: the product with the transpose; X is
// (n_major, k), y (n_minor, k). Partials as described at the top of this file.
template <class V, class I>
Buffer<V> compressed_matmat_t(size_t n_major, size_t n_minor, size_t k, const I* indptr, const I* indices,
                              const V* data, const V* X, int max_threads) {
  using A = Arith<V>;
  using Acc = typename A::Acc;
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  if (nnz > 0 && n_minor == 0) throw std::invalid_argument("matmat_t: minor index out of range (the shape has no columns)");
  const size_t slots = n_minor * k;
  Buffer<V> out(slots);
  V* y = out.data();
  // Blocks: majors cut into B ranges of equal nnz, B from the size alone; block b runs on
  // thread b % T into its own partial array.
  const size_t B = scatter_blocks(nnz * k, slots);
  const std::vector<size_t> blocks = split_by_indptr(indptr, n_major, static_cast<int>(B), 1);
  std::vector<std::vector<Acc>> part(B);
  const int T = std::min<int>(static_cast<int>(B), threads_for((nnz + n_major) * k, max_threads));
  std::vector<char> bad(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    bool ok = true;
    for (size_t b = static_cast<size_t>(t); b < B; b += static_cast<size_t>(T)) {
      part[b].assign(slots, Acc{});
      const size_t r0 = blocks[b], r1 = blocks[b + 1];
      if (k == 1)
        ok &= matmat_t_rows<1>(r0, r1, n_minor, k, indptr, indices, data, X, part[b].data());
      else if (std::is_floating_point<V>::value && k == 8)
        ok &= matmat_t_rows<std::is_floating_point<V>::value ? 8 : 0>(r0, r1, n_minor, k, indptr, indices, data, X,
                                                                      part[b].data());
      else
        ok &= matmat_t_rows<0>(r0, r1, n_minor, k, indptr, indices, data, X, part[b].data());
    }
    bad[t] = !ok;
  });
  throw_if_any(bad, "matmat_t");
  // Partitioning: output slots cut into U equal ranges; partials summed in block order.
  const int U = threads_for(slots * B, max_threads);
  parallel_run(U, [&](int t) {
    for (size_t j = even_split(slots, U, t), e = even_split(slots, U, t + 1); j < e; ++j) {
      Acc s = part[0][j];
      for (size_t b = 1; b < B; ++b) s = A::add(s, part[b][j]);
      y[j] = A::out(s);
    }
  });
  return out;
}

// ================================================================= row builders

// Builds a compressed result row by row. Row r writes at most `bound(r + 1) - bound(r)`
// entries (bound: non-decreasing upper-bound offsets, bound(0) == 0) through
// row(t, r, idx, val), which returns how many it wrote.
//
// Partitioning: majors cut into T ranges of equal bound; thread t writes its rows
// contiguously from bound(first row), so the output needs no counting pass; the blocks
// then slide left in thread order (untouched upper-bound space is never paged in). Each
// row's output comes from that row alone, so the result does not depend on T.
template <class V, class I, class Bound, class Row>
Compressed<V, I> build_rows(size_t n_major, Bound&& bound, const std::vector<size_t>& bounds, Row&& row) {
  const int T = static_cast<int>(bounds.size()) - 1;
  const size_t total = bound(n_major);
  Compressed<V, I> out{Buffer<I>(n_major + 1), Buffer<I>(total), Buffer<V>(total)};
  I* ptr = out.indptr.data();
  I* idx = out.indices.data();
  V* val = out.data.data();
  std::vector<size_t> start(static_cast<size_t>(T)), written(static_cast<size_t>(T));
  parallel_run(T, [&](int t) {
    const size_t s = bound(bounds[t]);
    size_t pos = s;
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      const size_t c = row(t, r, idx + pos, val + pos);
      ptr[r + 1] = static_cast<I>(c);  // a row count; prefix-summed below
      pos += c;
    }
    start[t] = s;
    written[t] = pos - s;
  });
  std::vector<size_t> base(static_cast<size_t>(T));
  size_t dst = 0;
  for (int t = 0; t < T; ++t) {
    base[t] = dst;
    if (start[t] != dst && written[t] != 0) {
      std::memmove(idx + dst, idx + start[t], written[t] * sizeof(I));
      std::memmove(static_cast<void*>(val + dst), val + start[t], written[t] * sizeof(V));
    }
    dst += written[t];
  }
  check_fits_index<I>(dst, "output nnz");
  // partitioning as above: each thread prefix-sums its own rows' counts
  parallel_run(T, [&](int t) {
    size_t run = base[t];
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      run += static_cast<size_t>(ptr[r + 1]);
      ptr[r + 1] = static_cast<I>(run);
    }
  });
  ptr[0] = 0;
  out.indices.shrink(dst);
  out.data.shrink(dst);
  return out;
}

// Sorts a short list of distinct indices.
template <class I>
void sort_small(I* a, size_t n) {
  if (n <= 32) {
    for (size_t i = 1; i < n; ++i) {
      const I key = a[i];
      size_t j = i;
      for (; j > 0 && key < a[j - 1]; --j) a[j] = a[j - 1];
      a[j] = key;
    }
    return;
  }
  std::sort(a, a + n);
}

// ================================================================= sparse x sparse

// C = A @ B with A (n_major x n_inner) and B (n_inner x n_minor) in the same compressed
// layout. Gustavson's algorithm with a dense accumulator per thread: row i of C sums, in
// A's entry order, a * B[k, :] for each entry (k, a) of A's row i. The result is canonical
// (sorted minor indices) and, as in SciPy, entries whose sum is exactly zero are not
// stored. Inputs may hold duplicates and unsorted slices.
template <class V, class I>
Compressed<V, I> compressed_matmul(size_t n_major, size_t n_inner, size_t n_minor, const I* a_ptr, const I* a_idx,
                                   const V* a_val, const I* b_ptr, const I* b_idx, const V* b_val,
                                   int max_threads) {
  using A = Arith<V>;
  using Acc = typename A::Acc;
  const size_t a_nnz = static_cast<size_t>(a_ptr[n_major]);
  const size_t b_nnz = static_cast<size_t>(b_ptr[n_inner]);
  // B is read once per product: checked once up front (A's indices in the counting pass).
  check_minor_indices(b_idx, b_nnz, n_minor, max_threads, "matmul (B)");
  // Upper bound of row i: its number of products, capped at n_minor.
  std::vector<size_t> ub(n_major + 1);
  ub[0] = 0;
  {
    const int T = threads_for(a_nnz + n_major, max_threads);
    const std::vector<size_t> bounds = split_by_indptr(a_ptr, n_major, T, 1);
    std::vector<char> bad(static_cast<size_t>(T), 0);
    // Partitioning: majors in T ranges; each thread writes its rows' counts.
    parallel_run(T, [&](int t) {
      bool b = false;
      for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
        size_t c = 0;
        for (size_t p = static_cast<size_t>(a_ptr[r]), e = static_cast<size_t>(a_ptr[r + 1]); p < e; ++p) {
          const uint64_t k = as_u64(a_idx[p]);
          if (k >= n_inner) {
            b = true;
            continue;
          }
          c += static_cast<size_t>(b_ptr[k + 1] - b_ptr[k]);
        }
        ub[r + 1] = std::min(c, n_minor);
      }
      bad[t] = b;
    });
    throw_if_any(bad, "matmul (A)");
    for (size_t r = 0; r < n_major; ++r) ub[r + 1] += ub[r];
  }
  // Partitioning: majors cut into T ranges of about equal products (+ 1 per row).
  const size_t work = ub[n_major] + n_major;
  const int T = threads_for(work, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(ub.data(), n_major, T, 1);
  struct Scratch {
    std::vector<Acc> acc;
    std::vector<size_t> mark;
  };
  std::vector<Scratch> scratch(static_cast<size_t>(T));
  return build_rows<V, I>(
      n_major, [&](size_t r) { return ub[r]; }, bounds, [&](int t, size_t r, I* out_idx, V* out_val) -> size_t {
        Scratch& s = scratch[t];
        if (s.mark.empty()) {
          s.acc.resize(n_minor);
          s.mark.assign(n_minor, SIZE_MAX);
        }
        Acc* acc = s.acc.data();
        size_t* mark = s.mark.data();
        size_t n = 0;
        for (size_t p = static_cast<size_t>(a_ptr[r]), e = static_cast<size_t>(a_ptr[r + 1]); p < e; ++p) {
          const size_t k = static_cast<size_t>(a_idx[p]);
          const V a = a_val[p];
          for (size_t q = static_cast<size_t>(b_ptr[k]), qe = static_cast<size_t>(b_ptr[k + 1]); q < qe; ++q) {
            const size_t j = static_cast<size_t>(b_idx[q]);
            const Acc prod = A::mul(a, b_val[q]);
            if (mark[j] != r) {
              mark[j] = r;
              acc[j] = prod;
              out_idx[n++] = static_cast<I>(j);  // the row's distinct columns, listed first
            } else {
              acc[j] = A::add(acc[j], prod);
            }
          }
        }
        sort_small(out_idx, n);
        size_t w = 0;
        for (size_t i = 0; i < n; ++i) {
          const I j = out_idx[i];
          const V v = A::out(acc[static_cast<size_t>(j)]);
          out_idx[w] = j;
          out_val[w] = v;
          w += !value_is_zero(v);
        }
        return w;
      });
}

// ================================================================= binary ops

enum class BinOp { add, sub, mul, maximum, minimum, ne, lt, gt, le, ge };

inline BinOp parse_binop(const std::string& op) {
  static const char* names[] = {"add", "sub", "mul", "maximum", "minimum", "ne", "lt", "gt", "le", "ge"};
  for (int i = 0; i < 10; ++i)
    if (op == names[i]) return static_cast<BinOp>(i);
  throw std::invalid_argument("op must be one of add, sub, mul, maximum, minimum, ne, lt, gt, le, ge; got '" + op +
                              "'");
}

inline bool binop_is_comparison(BinOp op) { return op >= BinOp::ne; }
inline bool binop_needs_order(BinOp op) { return op >= BinOp::maximum && op != BinOp::ne; }

// op(a, b) for one position with NumPy's semantics; bool arithmetic is logical (SciPy).
// maximum/minimum: b wins only when strictly greater (smaller), so a nan in a is kept.
// Complex values order lexicographically, as in NumPy.
template <BinOp Op, class V>
struct BinOpFn {
  using Out = std::conditional_t<(Op >= BinOp::ne), bool8, V>;
  static Out apply(V a, V b) {
    using A = Arith<V>;
    if constexpr (Op == BinOp::add || Op == BinOp::sub || Op == BinOp::mul) {
      if constexpr (std::is_same<V, bool8>::value) {
        const bool x = a.v != 0, y = b.v != 0;
        return bool8{static_cast<uint8_t>(Op == BinOp::add ? (x | y) : Op == BinOp::sub ? (x != y) : (x & y))};
      } else if constexpr (Op == BinOp::add) {
        return A::out(A::add(A::in(a), A::in(b)));
      } else if constexpr (Op == BinOp::sub) {
        return A::out(A::sub(A::in(a), A::in(b)));
      } else {
        return A::out(A::mul(a, b));
      }
    } else if constexpr (Op == BinOp::ne) {
      return bool8{static_cast<uint8_t>(!value_equal(a, b))};
    } else {
      if constexpr (Op == BinOp::maximum) return value_less(a, b) ? b : a;
      if constexpr (Op == BinOp::minimum) return value_less(b, a) ? b : a;
      if constexpr (Op == BinOp::lt) return bool8{static_cast<uint8_t>(value_less(a, b))};
      if constexpr (Op == BinOp::gt) return bool8{static_cast<uint8_t>(value_less(b, a))};
      if constexpr (Op == BinOp::le) return bool8{static_cast<uint8_t>(value_less_equal(a, b))};
      if constexpr (Op == BinOp::ge) return bool8{static_cast<uint8_t>(value_less_equal(b, a))};
    }
  }
};

// op over the union of the stored positions of two canonical operands (a missing entry is
// zero); only results that are not zero (comparisons: True) are stored. Canonical output.
// Comparisons (ne, lt, gt, le, ge) share one instantiation, the op a run-time value (an
// always-taken branch per entry): five times fewer instantiations to compile.
template <class V>
struct CompareFn {
  using Out = bool8;
  BinOp op;
  Out apply(V a, V b) const {
    switch (op) {
      case BinOp::ne: return BinOpFn<BinOp::ne, V>::apply(a, b);
      case BinOp::lt: return BinOpFn<BinOp::lt, V>::apply(a, b);
      case BinOp::gt: return BinOpFn<BinOp::gt, V>::apply(a, b);
      case BinOp::le: return BinOpFn<BinOp::le, V>::apply(a, b);
      default: return BinOpFn<BinOp::ge, V>::apply(a, b);
    }
  }
};

template <BinOp Op, class V>
struct StaticBinOpFn {
  using Out = typename BinOpFn<Op, V>::Out;
  Out apply(V a, V b) const { return BinOpFn<Op, V>::apply(a, b); }
};

template <class F, class V, class I>
Compressed<typename F::Out, I> compressed_binop_fn(const F f, size_t n_major, size_t n_minor, const I* a_ptr,
                                                   const I* a_idx, const V* a_val, const I* b_ptr, const I* b_idx,
                                                   const V* b_val, int max_threads) {
  using Out = typename F::Out;
  const size_t a_nnz = static_cast<size_t>(a_ptr[n_major]);
  const size_t b_nnz = static_cast<size_t>(b_ptr[n_major]);
  auto bound = [&](size_t r) { return static_cast<size_t>(a_ptr[r]) + static_cast<size_t>(b_ptr[r]); };
  // Partitioning: majors cut into T ranges of equal a + b entries (+ 1 per row).
  const size_t work = a_nnz + b_nnz + n_major;
  const int T = threads_for(work, max_threads);
  const std::vector<size_t> bounds = split_by_weight(n_major, T, [&](size_t r) { return bound(r) + r; });
  auto slice_out_of_range = [n_minor](const I* ptr, const I* idx, size_t r) {
    const size_t b = static_cast<size_t>(ptr[r]), e = static_cast<size_t>(ptr[r + 1]);
    return b < e && (as_u64(idx[b]) >= n_minor || as_u64(idx[e - 1]) >= n_minor);
  };
  const V zero{};
  std::vector<char> bad(static_cast<size_t>(T), 0);
  auto out = build_rows<Out, I>(n_major, bound, bounds, [&](int t, size_t r, I* out_idx, Out* out_val) -> size_t {
    // Indices are only compared and copied, never used as addresses: checked on each
    // slice's first and last entries (its extremes, as slices are sorted).
    bad[t] |= slice_out_of_range(a_ptr, a_idx, r) || slice_out_of_range(b_ptr, b_idx, r);
    size_t pa = static_cast<size_t>(a_ptr[r]), ea = static_cast<size_t>(a_ptr[r + 1]);
    size_t pb = static_cast<size_t>(b_ptr[r]), eb = static_cast<size_t>(b_ptr[r + 1]);
    size_t w = 0;
    // Branch-free stores: every step writes its result, the cursor moves past non-zeros.
    while (pa < ea && pb < eb) {
      const I ja = a_idx[pa], jb = b_idx[pb];
      const bool take_a = ja <= jb, take_b = jb <= ja;
      const Out v = f.apply(take_a ? a_val[pa] : zero, take_b ? b_val[pb] : zero);
      out_idx[w] = take_a ? ja : jb;
      out_val[w] = v;
      w += !value_is_zero(v);
      pa += take_a;
      pb += take_b;
    }
    for (; pa < ea; ++pa) {
      const Out v = f.apply(a_val[pa], zero);
      out_idx[w] = a_idx[pa];
      out_val[w] = v;
      w += !value_is_zero(v);
    }
    for (; pb < eb; ++pb) {
      const Out v = f.apply(zero, b_val[pb]);
      out_idx[w] = b_idx[pb];
      out_val[w] = v;
      w += !value_is_zero(v);
    }
    return w;
  });
  throw_if_any(bad, "binop");
  return out;
}

template <BinOp Op, class V, class I>
Compressed<typename BinOpFn<Op, V>::Out, I> compressed_binop(size_t n_major, size_t n_minor, const I* a_ptr,
                                                             const I* a_idx, const V* a_val, const I* b_ptr,
                                                             const I* b_idx, const V* b_val, int max_threads) {
  return compressed_binop_fn(StaticBinOpFn<Op, V>{}, n_major, n_minor, a_ptr, a_idx, a_val, b_ptr, b_idx, b_val,
                             max_threads);
}

// ================================================================= reductions

enum class ReduceOp { sum, max, min };

inline ReduceOp parse_reduce(const std::string& op) {
  if (op == "sum") return ReduceOp::sum;
  if (op == "max") return ReduceOp::max;
  if (op == "min") return ReduceOp::min;
  throw std::invalid_argument("op must be one of sum, max, min; got '" + op + "'");
}

// One slot's running reduction. sum: in Arith<V>::Acc (bool: OR). max/min: the best value
// so far; the first nan wins (np.maximum.reduce propagates nan); complex values order
// lexicographically; an empty slot gives zero.
template <ReduceOp Op, class V>
struct Reducer {
  struct SumState {
    typename Arith<V>::Acc v{};
  };
  struct BestState {
    V v{};
    uint8_t has = 0;
  };
  using State = std::conditional_t<Op == ReduceOp::sum, SumState, BestState>;
  static void step(State& s, V x) {
    if constexpr (Op == ReduceOp::sum) {
      s.v = Arith<V>::add(s.v, Arith<V>::in(x));
    } else {
      if (!s.has) {
        s.v = x;
        s.has = 1;
        return;
      }
      if (value_is_nan(s.v)) return;
      if (value_is_nan(x) || (Op == ReduceOp::max ? value_less(s.v, x) : value_less(x, s.v))) s.v = x;
    }
  }
  static void merge(State& s, const State& o) {
    if constexpr (Op == ReduceOp::sum) {
      s.v = Arith<V>::add(s.v, o.v);
    } else {
      if (o.has) step(s, o.v);
    }
  }
  static V out(const State& s) {
    if constexpr (Op == ReduceOp::sum)
      return Arith<V>::out(s.v);
    else
      return s.has ? s.v : V{};
  }
};

// op over the stored values of each major slice; an empty slice gives zero.
template <ReduceOp Op, class V, class I>
Buffer<V> compressed_reduce_major(size_t n_major, const I* indptr, const V* data, size_t capacity, int max_threads) {
  using R = Reducer<Op, V>;
  const size_t nnz = check_indptr(indptr, n_major, capacity);
  Buffer<V> out(n_major);
  V* y = out.data();
  // Partitioning: majors cut into T ranges of equal nnz; one thread per slice.
  const int T = threads_for(nnz + n_major, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, 1);
  parallel_run(T, [&](int t) {
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      typename R::State s;
      for (size_t p = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]); p < e; ++p)
        R::step(s, data[p]);
      y[r] = R::out(s);
    }
  });
  return out;
}

// op over the stored values of each minor index (entries [0, nnz)); partials as described
// at the top of this file.
template <ReduceOp Op, class V, class I>
Buffer<V> compressed_reduce_minor(size_t n_minor, const I* indices, const V* data, size_t nnz, int max_threads) {
  using R = Reducer<Op, V>;
  using State = typename R::State;
  if (nnz > 0 && n_minor == 0) throw std::invalid_argument("reduce_minor: minor index out of range (the shape has no columns)");
  Buffer<V> out(n_minor);
  V* y = out.data();
  // Blocks: entries cut into B equal ranges, B from the size alone; block b runs on
  // thread b % T into its own partial array.
  const size_t B = scatter_blocks(nnz, n_minor);
  std::vector<std::vector<State>> part(B);
  const int T = std::min<int>(static_cast<int>(B), threads_for(nnz, max_threads));
  std::vector<char> bad(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    bool oob = false;
    for (size_t b = static_cast<size_t>(t); b < B; b += static_cast<size_t>(T)) {
      part[b].assign(n_minor, State{});
      State* s = part[b].data();
      for (size_t p = even_split(nnz, static_cast<int>(B), static_cast<int>(b)),
                  e = even_split(nnz, static_cast<int>(B), static_cast<int>(b) + 1);
           p < e; ++p)
        R::step(s[checked_slot(indices[p], n_minor, oob)], data[p]);
    }
    bad[t] = oob;
  });
  throw_if_any(bad, "reduce_minor");
  // Partitioning: minor indices cut into U equal ranges; partials merged in block order.
  const int U = threads_for(n_minor * B, max_threads);
  parallel_run(U, [&](int t) {
    for (size_t j = even_split(n_minor, U, t), e = even_split(n_minor, U, t + 1); j < e; ++j) {
      State s = part[0][j];
      for (size_t b = 1; b < B; ++b) R::merge(s, part[b][j]);
      y[j] = R::out(s);
    }
  });
  return out;
}

}  // namespace mlx_sparse
