// CPU kernels on sparse storage: one template per algorithm over <Value, Index>.
//
// Vocabulary: "major" is the compressed axis (rows of CSR, columns of CSC), "minor" the
// other one; one kernel serves both formats. A "slice" is the run of entries of one major.
//
// Kernels are plain C++ (no Python): they read raw pointers, allocate their outputs as
// Buffers and may run on several threads (see threading.hpp). Results never depend on
// the number of threads: every output value is computed by one thread, from its inputs
// in input order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <tuple>
#include <vector>

#include "buffer.hpp"
#include "threading.hpp"
#include "values.hpp"

namespace mlx_sparse {

// ================================================================= results

template <class V, class I>
struct Compressed {
  Buffer<I> indptr;  // n_major + 1
  Buffer<I> indices;
  Buffer<V> data;
};

template <class V, class I>
struct SliceEntries {
  Buffer<I> indices;
  Buffer<V> data;
};

// ================================================================= small helpers

// Index value as an unsigned 64-bit number; negative values become huge, so one
// comparison `as_u64(i) >= n` rejects both negative and too-large indices.
template <class I>
inline uint64_t as_u64(I x) {
  return static_cast<uint64_t>(static_cast<int64_t>(x));
}

template <class I>
void check_fits_index(uint64_t n, const char* what) {
  if (n > static_cast<uint64_t>(std::numeric_limits<I>::max()))
    throw std::invalid_argument(std::string(what) + " (" + std::to_string(n) +
                                ") does not fit the index dtype; use int64 indices");
}

// indptr[0] == 0, non-decreasing, indptr[n] <= capacity. Returns nnz = indptr[n].
template <class I>
size_t check_indptr(const I* indptr, size_t n, size_t capacity) {
  if (indptr[0] != 0) throw std::invalid_argument("indptr[0] must be 0");
  bool decreasing = false;
  for (size_t r = 0; r < n; ++r) decreasing |= indptr[r + 1] < indptr[r];
  if (decreasing) throw std::invalid_argument("indptr must be non-decreasing");
  const uint64_t nnz = as_u64(indptr[n]);
  if (nnz > capacity)
    throw std::invalid_argument("indptr[-1] (" + std::to_string(nnz) + ") exceeds the length of indices/data (" +
                                std::to_string(capacity) + ")");
  return static_cast<size_t>(nnz);
}

inline void throw_if_flagged(const std::vector<char>& flags, const char* message) {
  for (char f : flags)
    if (f) throw std::invalid_argument(message);
}

// ================================================================= slice primitives

// Sorts one slice's (index, value) pairs by index, stably (equal indices keep their
// order, so duplicates are later summed in input order). Values move as raw bytes.
// Short slices (the common case) use a branch-free rank sort; long ones a sort of packed
// (index, position) keys.
template <class I, class S>
class SliceSorter {
 public:
  // Writes the sorted slice to idx/val (which must not overlap in_idx/in_val).
  void sort_copy(const I* in_idx, const S* in_val, size_t m, I* idx, S* val) {
    if (m <= kRankMax && !is_sorted(in_idx, m)) {
      rank_sort_copy(in_idx, in_val, m, idx, val);
      return;
    }
    std::memcpy(idx, in_idx, m * sizeof(I));
    std::memcpy(static_cast<void*>(val), in_val, m * sizeof(S));
    if (m > kRankMax) (*this)(idx, val, m);
  }

  // Sorts in place.
  void operator()(I* idx, S* val, size_t m) {
    if (is_sorted(idx, m)) return;  // common, and O(m) to detect
    if (m <= kRankMax) {
      I tmp_idx[kRankMax];
      S tmp_val[kRankMax];
      std::memcpy(tmp_idx, idx, m * sizeof(I));
      std::memcpy(static_cast<void*>(tmp_val), val, m * sizeof(S));
      rank_sort_copy(tmp_idx, tmp_val, m, idx, val);
      return;
    }
    sort_long(idx, val, m);
  }

 private:
  static constexpr size_t kRankMax = 24;       // rank sort up to here (O(m^2) compares, no branches)
  static constexpr size_t kInsertionMax = 32;  // then insertion sort

  static bool is_sorted(const I* idx, size_t m) {
    for (size_t j = 1; j < m; ++j)
      if (idx[j] < idx[j - 1]) return false;
    return true;
  }

  // Element i goes to position (#earlier elements <= it) + (#later elements < it): a
  // stable permutation computed without data-dependent branches.
  static void rank_sort_copy(const I* in_idx, const S* in_val, size_t m, I* idx, S* val) {
    for (size_t i = 0; i < m; ++i) {
      const I key = in_idx[i];
      size_t r = 0;
      for (size_t j = 0; j < i; ++j) r += in_idx[j] <= key;
      for (size_t j = i + 1; j < m; ++j) r += in_idx[j] < key;
      idx[r] = key;
      val[r] = in_val[i];
    }
  }

  void sort_long(I* idx, S* val, size_t m) {
    if (m <= kInsertionMax) {
      insertion_sort(idx, val, m);
      return;
    }
    I lo = idx[0], hi = idx[0];
    for (size_t k = 1; k < m; ++k) {
      lo = std::min(lo, idx[k]);
      hi = std::max(hi, idx[k]);
    }
    if (as_u64(hi) - as_u64(lo) <= 0xffffffffu && m <= 0xffffffffu)
      key_sort(idx, val, m, lo);
    else
      permutation_sort(idx, val, m);
  }

  static void insertion_sort(I* idx, S* val, size_t m) {
    for (size_t i = 1; i < m; ++i) {
      const I key = idx[i];
      const S v = val[i];
      size_t j = i;
      for (; j > 0 && key < idx[j - 1]; --j) {
        idx[j] = idx[j - 1];
        val[j] = val[j - 1];
      }
      idx[j] = key;
      val[j] = v;
    }
  }

  // (index - lo) in the high 32 bits, position in the low 32: distinct keys, so an
  // unstable sort of them is a stable sort of the slice.
  void key_sort(I* idx, S* val, size_t m, I lo) {
    keys_.resize(m);
    vals_.resize(m);
    const uint64_t base = as_u64(lo);
    for (size_t k = 0; k < m; ++k) keys_[k] = ((as_u64(idx[k]) - base) << 32) | k;
    std::sort(keys_.begin(), keys_.end());
    for (size_t k = 0; k < m; ++k) {
      idx[k] = static_cast<I>(base + (keys_[k] >> 32));
      vals_[k] = val[keys_[k] & 0xffffffffu];
    }
    std::copy(vals_.begin(), vals_.end(), val);
  }

  // Index span too wide for key_sort (int64 indices far apart).
  void permutation_sort(I* idx, S* val, size_t m) {
    perm_.resize(m);
    std::iota(perm_.begin(), perm_.end(), size_t(0));
    std::stable_sort(perm_.begin(), perm_.end(), [idx](size_t a, size_t b) { return idx[a] < idx[b]; });
    idxs_.resize(m);
    vals_.resize(m);
    for (size_t k = 0; k < m; ++k) {
      idxs_[k] = idx[perm_[k]];
      vals_[k] = val[perm_[k]];
    }
    std::copy(idxs_.begin(), idxs_.end(), idx);
    std::copy(vals_.begin(), vals_.end(), val);
  }

  std::vector<uint64_t> keys_;
  std::vector<S> vals_;
  std::vector<size_t> perm_;
  std::vector<I> idxs_;
};

// Writes the slice with runs of equal adjacent indices summed into one entry (in input
// order); returns the number written. Works in place when out <= in. Branch-free (the
// running entry is stored every step, the cursor advances when the index changes):
// duplicates come at random, so a branch on them would mispredict.
template <class V, class I>
size_t merge_duplicates(const I* in_idx, const V* in_val, size_t m, I* out_idx, V* out_val) {
  if (m == 0) return 0;
  I cur = in_idx[0];
  V acc = in_val[0];
  size_t w = 0;
  for (size_t j = 1; j < m; ++j) {
    const I c = in_idx[j];
    const V v = in_val[j];
    out_idx[w] = cur;  // w < j: in place, in[j] was read already
    out_val[w] = acc;
    const bool same = c == cur;
    w += !same;
    acc = same ? value_add(acc, v) : v;
    cur = c;
  }
  out_idx[w] = cur;
  out_val[w] = acc;
  return w + 1;
}

// Writes the slice's entries whose value is not zero; returns the number written.
template <class V, class I>
size_t copy_nonzeros(const I* in_idx, const V* in_val, size_t m, I* out_idx, V* out_val) {
  size_t w = 0;
  for (size_t j = 0; j < m; ++j) {
    if (!value_is_zero(in_val[j])) {
      out_idx[w] = in_idx[j];
      out_val[w] = in_val[j];
      ++w;
    }
  }
  return w;
}

// ================================================================= parallel building blocks

// Rebuilds every slice through `emit(t, r, begin, end, pos)`, which writes the output
// entries of slice r (input entries [begin, end)) at output position `pos`, never past
// `begin + (its count so far)`, and returns how many it wrote. Fills indptr_out (which
// may be indptr_in) and returns the new nnz; `slide(dst, src, n)` moves n output entries.
//
// Partitioning: majors cut into T ranges of equal nnz. Thread t writes its output
// contiguously from its range's first input offset, so it only ever writes where its own
// input was (in-place compaction is safe); afterwards the blocks slide left in thread
// order. Each slice's output comes from that slice alone, so results do not depend on T.
template <class I, class Emit, class Slide>
size_t compact_slices(const I* indptr_in, size_t n_major, I* indptr_out, int max_threads, Emit&& emit,
                      Slide&& slide) {
  const size_t nnz = static_cast<size_t>(indptr_in[n_major]);
  const int T = threads_for(nnz + n_major, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr_in, n_major, T, 1);
  std::vector<size_t> start(static_cast<size_t>(T)), written(static_cast<size_t>(T));
  // read before any thread writes: thread t-1 overwrites indptr[bounds[t]] when aliased
  for (int t = 0; t < T; ++t) start[t] = static_cast<size_t>(indptr_in[bounds[t]]);
  parallel_run(T, [&](int t) {
    size_t pos = start[t], begin = start[t];
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      const size_t end = static_cast<size_t>(indptr_in[r + 1]);
      pos += emit(t, r, begin, end, pos);
      indptr_out[r + 1] = static_cast<I>(pos);
      begin = end;
    }
    written[t] = pos - start[t];
  });
  // Slide blocks left, in order (block t may land on block t-1's old place). Serial: a
  // parallel move would race with the blocks it overlaps.
  std::vector<size_t> shift(static_cast<size_t>(T));
  size_t dst = 0;
  for (int t = 0; t < T; ++t) {
    shift[t] = start[t] - dst;
    if (shift[t] != 0 && written[t] != 0) slide(dst, start[t], written[t]);
    dst += written[t];
  }
  // partitioning as above; each thread fixes only its own majors' indptr entries
  parallel_run(T, [&](int t) {
    if (shift[t] == 0) return;
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r)
      indptr_out[r + 1] = static_cast<I>(static_cast<size_t>(indptr_out[r + 1]) - shift[t]);
  });
  indptr_out[0] = 0;
  return dst;
}

// Items a bucket of the bucketed sort aims to hold: their scratch copy stays in L2.
constexpr size_t kBucketBytes = size_t(384) << 10;
// Keys per bucket at most 2^16: local keys are stored in 16 bits.
constexpr unsigned kMaxBucketShift = 16;

// Per-key counts (at counts[key + 1]) of a bucket's local keys; true if they are sorted.
inline bool count_local_keys(const uint16_t* lkey, size_t m, size_t* counts) {
  bool in_order = true;
  uint16_t prev = 0;
  for (size_t p = 0; p < m; ++p) {
    ++counts[lkey[p] + 1];
    in_order &= prev <= lkey[p];
    prev = lkey[p];
  }
  return in_order;
}

// Counting-sort scatter of a bucket into scratch; next[k]: where local key k's next item goes.
template <class I, class S>
void scatter_by_local_key(const uint16_t* lkey, const I* idx, const S* val, size_t m, size_t* next, I* s_idx,
                          S* s_val) {
  for (size_t p = 0; p < m; ++p) {
    const size_t q = next[lkey[p]]++;
    s_idx[q] = idx[p];
    s_val[q] = val[p];
  }
}

// Stable counting sort of n items (key, idx, val) by key in [0, n_keys), in three cache-
// friendly passes.
//
// Scattering each item straight to its final slot costs a cache and TLB miss per item once
// there are millions of keys. Instead keys are grouped into buckets of 2^shift consecutive
// keys, shift chosen so that an average bucket holds about kBucketBytes of items:
//   A. count the items per (input piece, bucket): a few hundred counters, in L1;
//   B. append every item to its bucket's range of the output: a few hundred sequential
//      streams, with the item's key within the bucket in a 16-bit side array;
//   C. per bucket: count the items per key, counting-sort them in a scratch buffer that
//      stays in cache, and hand them to `finish`.
// A skewed bucket just gets a larger scratch.
//
// keys(t, visit) calls visit(key) for the items of input piece t (T pieces, in order) and
// returns false if it met an invalid item (then nothing else happens and this returns
// false); keys must be < n_keys. produce(t, emit) calls emit(key, idx, val) for the same
// items in the same order (returning false if invalid, as keys).
// finish(t, k0, k1, begin, end, idx, val, key_begin) gets the items of keys [k0, k1) (output
// range [begin, end)) at idx[0 .. end - begin), val[...], sorted by key, ties in input order;
// key k's items are [key_begin[k - k0], key_begin[k - k0 + 1]). They are in scratch, or
// already in place at out_idx + begin; finish must consume them. On each thread, finish is
// called for consecutive buckets in key order, thread t's buckets all before thread t+1's.
template <class I, class S, class Keys, class Produce, class Finish>
bool bucketed_counting_sort(size_t n_keys, size_t n, int T, int max_threads, I* out_idx, S* out_val, Keys&& keys,
                            Produce&& produce, Finish&& finish) {
  const size_t target = std::max<size_t>(1, kBucketBytes / (sizeof(I) + sizeof(S)));
  const double keys_per_bucket =
      static_cast<double>(target) * static_cast<double>(n_keys) / static_cast<double>(std::max<size_t>(n, 1));
  unsigned shift = 0;
  while (shift < kMaxBucketShift && static_cast<double>(size_t(2) << shift) <= keys_per_bucket) ++shift;
  const size_t nb = std::max<size_t>(1, (n_keys + (size_t(1) << shift) - 1) >> shift);
  auto first_key = [&](size_t b) { return std::min(b << shift, n_keys); };
  const size_t Tz = static_cast<size_t>(T);

  // Pass A. Partitioning: the caller's T input pieces, one row of counters each.
  std::vector<size_t> cursor(Tz * nb, 0);
  std::vector<char> ok(Tz, 1);
  parallel_run(T, [&](int t) {
    size_t* cnt = cursor.data() + static_cast<size_t>(t) * nb;
    ok[t] = keys(t, [cnt, shift](size_t key) { ++cnt[key >> shift]; });
  });
  for (char good : ok)
    if (!good) return false;
  // Bucket b's output range starts after all earlier buckets; within it, piece t's items
  // follow those of pieces < t, which is what makes the sort stable.
  std::vector<size_t> start(nb + 1);
  size_t run = 0;
  for (size_t b = 0; b < nb; ++b) {
    start[b] = run;
    for (size_t t = 0; t < Tz; ++t) {
      const size_t c = cursor[t * nb + b];
      cursor[t * nb + b] = run;
      run += c;
    }
  }
  start[nb] = run;

  // Pass B. Partitioning: the same pieces; each appends to its own sub-ranges.
  Buffer<uint16_t> local_key(n);
  uint16_t* lkey = local_key.data();
  const size_t mask = (size_t(1) << shift) - 1;
  parallel_run(T, [&](int t) {
    size_t* cur = cursor.data() + static_cast<size_t>(t) * nb;
    ok[t] = produce(t, [cur, out_idx, out_val, lkey, shift, mask](size_t key, I idx, S val) {
      const size_t p = cur[key >> shift]++;
      out_idx[p] = idx;
      out_val[p] = val;
      lkey[p] = static_cast<uint16_t>(key & mask);
    });
  });
  for (char good : ok)
    if (!good) return false;

  // Pass C. Partitioning: buckets cut into P ranges of equal item count; each bucket is
  // sorted by one thread from its own items only.
  const int P = threads_for(n + n_keys, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(start.data(), nb, P, 1);
  parallel_run(P, [&](int t) {
    std::vector<I> s_idx;
    std::vector<S> s_val;
    std::vector<size_t> key_begin, next;
    for (size_t b = bounds[t]; b < bounds[t + 1]; ++b) {
      const size_t a = start[b], e = start[b + 1], k0 = first_key(b), k1 = first_key(b + 1), nk = k1 - k0;
      key_begin.assign(nk + 1, 0);
      // e.g. the input was already sorted by key: nothing to move
      const bool in_order = count_local_keys(lkey + a, e - a, key_begin.data());
      for (size_t j = 0; j < nk; ++j) key_begin[j + 1] += key_begin[j];
      if (in_order) {
        finish(t, k0, k1, a, e, out_idx + a, out_val + a, key_begin.data());
        continue;
      }
      if (s_idx.size() < e - a) {
        s_idx.resize(e - a);
        s_val.resize(e - a);
      }
      next.assign(key_begin.begin(), key_begin.end() - 1);
      scatter_by_local_key(lkey + a, out_idx + a, out_val + a, e - a, next.data(), s_idx.data(), s_val.data());
      finish(t, k0, k1, a, e, s_idx.data(), s_val.data(), key_begin.data());
    }
  });
  return true;
}

// ================================================================= kernels

// COO -> canonical compressed: entries grouped by major with a stable counting sort, each
// slice sorted stably by minor, then runs of equal (major, minor) summed in input order.
// Zero sums and explicit zeros are kept.
template <class V, class I>
Compressed<V, I> coo_to_compressed(size_t n_major, size_t n_minor, const I* major, const I* minor, const V* data,
                                   size_t nnz, int max_threads) {
  using S = storage_t<V>;
  check_fits_index<I>(nnz, "nnz");
  Compressed<V, I> out{Buffer<I>(n_major + 1), Buffer<I>(nnz), Buffer<V>(nnz)};
  I* indptr = out.indptr.data();
  I* idx = out.indices.data();
  V* vals = out.data.data();
  const S* data_s = reinterpret_cast<const S*>(data);

  // Group by major; then, per bucket of slices, sort each slice by minor and sum its
  // duplicates, writing the kept entries contiguously from the thread's first position
  // (never past what the thread has consumed, so in place is safe).
  struct Block {
    size_t start = SIZE_MAX, pos = 0, k_begin = 0, k_end = 0;
  };
  const size_t n_threads = static_cast<size_t>(std::max(max_threads, 1));
  std::vector<Block> blocks(n_threads);
  std::vector<SliceSorter<I, S>> sorters(n_threads);
  // Input pieces: the input cut evenly into T.
  const int T = threads_for(nnz, max_threads);
  const bool ok = bucketed_counting_sort(
      n_major, nnz, T, max_threads, idx, reinterpret_cast<S*>(vals),
      [&](int t, auto&& visit) {
        const I* const rows = major;
        const uint64_t n_rows = n_major;
        for (size_t i = even_split(nnz, T, t), e = even_split(nnz, T, t + 1); i < e; ++i) {
          const uint64_t r = as_u64(rows[i]);
          if (r >= n_rows) return false;
          visit(static_cast<size_t>(r));
        }
        return true;
      },
      [&](int t, auto&& emit) {
        const I* const rows = major;
        const I* const cols = minor;
        const S* const vals_in = data_s;
        const uint64_t n_cols = n_minor;
        bool good = true;
        for (size_t i = even_split(nnz, T, t), e = even_split(nnz, T, t + 1); i < e; ++i) {
          good &= as_u64(cols[i]) < n_cols;
          emit(static_cast<size_t>(rows[i]), cols[i], vals_in[i]);
        }
        return good;
      },
      [&](int t, size_t k0, size_t k1, size_t begin, size_t, I* b_idx, S* b_val, const size_t* key_begin) {
        Block& blk = blocks[t];
        if (blk.start == SIZE_MAX) {
          blk.start = blk.pos = begin;
          blk.k_begin = k0;
        }
        blk.k_end = k1;
        for (size_t k = k0; k < k1; ++k) {
          const size_t s = key_begin[k - k0], m = key_begin[k - k0 + 1] - s;
          sorters[t](b_idx + s, b_val + s, m);
          blk.pos += merge_duplicates(b_idx + s, reinterpret_cast<V*>(b_val + s), m, idx + blk.pos, vals + blk.pos);
          indptr[k + 1] = static_cast<I>(blk.pos);
        }
      });
  if (!ok) throw std::invalid_argument("coo_to_compressed: index out of range (negative, or not below the shape)");

  // Slide the threads' blocks left, in order (block t may land on block t-1's old place,
  // so this is serial), then shift their indptr entries.
  size_t kept = 0, used = 0;
  for (size_t t = 0; t < n_threads; ++t) {
    Block& blk = blocks[t];
    if (blk.start == SIZE_MAX) continue;
    const size_t n = blk.pos - blk.start;
    if (blk.start != kept && n != 0) {
      std::memmove(idx + kept, idx + blk.start, n * sizeof(I));
      std::memmove(static_cast<void*>(vals + kept), vals + blk.start, n * sizeof(V));
    }
    blk.pos = blk.start - kept;  // from here on: the block's shift
    kept += n;
    used = t + 1;
  }
  // Partitioning: one thread per block, fixing its own majors' entries.
  auto fix = [&](int t) {
    const Block& blk = blocks[t];
    if (blk.start == SIZE_MAX || blk.pos == 0) return;
    for (size_t k = blk.k_begin; k < blk.k_end; ++k)
      indptr[k + 1] = static_cast<I>(static_cast<size_t>(indptr[k + 1]) - blk.pos);
  };
  if (threads_for(n_major, max_threads) > 1) {
    parallel_run(static_cast<int>(used), fix);
  } else {
    for (size_t t = 0; t < used; ++t) fix(static_cast<int>(t));
  }
  indptr[0] = 0;
  out.indices.shrink(kept);
  out.data.shrink(kept);
  return out;
}

// Compressed -> compressed along the other axis (CSR <-> CSC): a stable counting sort by
// minor, so each output slice lists its entries by increasing input major (sorted output,
// duplicates kept). Values move as raw bytes (instantiated per width, S = Bytes<N>).
template <class S, class I>
Compressed<S, I> compressed_transpose(size_t n_major, size_t n_minor, const I* indptr, const I* indices,
                                      const S* data, int max_threads) {
  if (n_major > 0) check_fits_index<I>(n_major - 1, "n_major - 1");
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  Compressed<S, I> out{Buffer<I>(n_minor + 1), Buffer<I>(nnz), Buffer<S>(nnz)};
  I* out_ptr = out.indptr.data();
  I* out_idx = out.indices.data();
  S* out_val = out.data.data();

  // Input pieces: majors cut into T ranges of equal nnz, read in major order, so each
  // output slice lists its entries by increasing major.
  const int T = threads_for(nnz + n_major, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, 1);
  const bool ok = bucketed_counting_sort(
      n_minor, nnz, T, max_threads, out_idx, out_val,
      [&](int t, auto&& visit) {
        const I* const cols = indices;
        const uint64_t n_cols = n_minor;
        for (size_t p = static_cast<size_t>(indptr[bounds[t]]), e = static_cast<size_t>(indptr[bounds[t + 1]]);
             p < e; ++p) {
          const uint64_t c = as_u64(cols[p]);
          if (c >= n_cols) return false;
          visit(static_cast<size_t>(c));
        }
        return true;
      },
      [&](int t, auto&& emit) {
        const I* const ptr = indptr;
        const I* const cols = indices;
        const S* const vals_in = data;
        for (size_t r = bounds[t], r_end = bounds[t + 1]; r < r_end; ++r)
          for (size_t p = static_cast<size_t>(ptr[r]), e = static_cast<size_t>(ptr[r + 1]); p < e; ++p)
            emit(static_cast<size_t>(cols[p]), static_cast<I>(r), vals_in[p]);
        return true;
      },
      [&](int, size_t k0, size_t k1, size_t begin, size_t end, I* b_idx, S* b_val, const size_t* key_begin) {
        for (size_t k = k0; k < k1; ++k) out_ptr[k] = static_cast<I>(begin + key_begin[k - k0]);
        if (b_idx == out_idx + begin) return;
        std::memcpy(out_idx + begin, b_idx, (end - begin) * sizeof(I));
        std::memcpy(out_val + begin, b_val, (end - begin) * sizeof(S));
      });
  if (!ok) throw std::invalid_argument("compressed_transpose: minor index out of range (negative, or not below the shape)");
  out_ptr[n_minor] = static_cast<I>(nnz);
  return out;
}

// Each slice stably sorted by minor index (duplicates kept, in input order).
// Values move as raw bytes (S = Bytes<N>).
template <class S, class I>
SliceEntries<S, I> sort_indices(size_t n_major, const I* indptr, const I* indices, const S* data,
                                int max_threads) {
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  SliceEntries<S, I> out{Buffer<I>(nnz), Buffer<S>(nnz)};
  I* idx = out.indices.data();
  S* val = out.data.data();
  // Partitioning: majors cut into T ranges of equal nnz; slices are independent.
  const int T = threads_for(nnz + n_major, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, 1);
  parallel_run(T, [&](int t) {
    SliceSorter<I, S> sorter;
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      const size_t s = static_cast<size_t>(indptr[r]);
      sorter.sort_copy(indices + s, data + s, static_cast<size_t>(indptr[r + 1]) - s, idx + s, val + s);
    }
  });
  return out;
}

// Runs of equal adjacent minor indices in each slice summed into one entry (zero sums
// kept). With sorted slices that removes all duplicates. sort_slices: first sort each
// slice stably by minor index (as sort_indices), in the same pass, for a canonical result.
template <class V, class I>
Compressed<V, I> sum_duplicates(size_t n_major, const I* indptr, const I* indices, const V* data, int max_threads,
                                bool sort_slices = false) {
  using S = storage_t<V>;
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  Compressed<V, I> out{Buffer<I>(n_major + 1), Buffer<I>(nnz), Buffer<V>(nnz)};
  I* idx = out.indices.data();
  V* val = out.data.data();
  std::vector<SliceSorter<I, S>> sorters(sort_slices ? static_cast<size_t>(std::max(max_threads, 1)) : 0);
  const size_t kept = compact_slices(
      indptr, n_major, out.indptr.data(), max_threads,
      [&](int t, size_t, size_t begin, size_t end, size_t pos) {
        if (!sort_slices) return merge_duplicates(indices + begin, data + begin, end - begin, idx + pos, val + pos);
        // sorted copy at pos (inside what this thread has consumed), then merged in place
        sorters[t].sort_copy(indices + begin, reinterpret_cast<const S*>(data + begin), end - begin, idx + pos,
                             reinterpret_cast<S*>(val + pos));
        return merge_duplicates(idx + pos, val + pos, end - begin, idx + pos, val + pos);
      },
      [&](size_t dst, size_t src, size_t n) {
        std::memmove(idx + dst, idx + src, n * sizeof(I));
        std::memmove(val + dst, val + src, n * sizeof(V));
      });
  out.indices.shrink(kept);
  out.data.shrink(kept);
  return out;
}

// Entries whose value is zero dropped (see value_is_zero).
template <class V, class I>
Compressed<V, I> eliminate_zeros(size_t n_major, const I* indptr, const I* indices, const V* data, int max_threads) {
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  Compressed<V, I> out{Buffer<I>(n_major + 1), Buffer<I>(nnz), Buffer<V>(nnz)};
  I* idx = out.indices.data();
  V* val = out.data.data();
  const size_t kept = compact_slices(
      indptr, n_major, out.indptr.data(), max_threads,
      [&](int, size_t, size_t begin, size_t end, size_t pos) {
        return copy_nonzeros(indices + begin, data + begin, end - begin, idx + pos, val + pos);
      },
      [&](size_t dst, size_t src, size_t n) {
        std::memmove(idx + dst, idx + src, n * sizeof(I));
        std::memmove(val + dst, val + src, n * sizeof(V));
      });
  out.indices.shrink(kept);
  out.data.shrink(kept);
  return out;
}

// Zero-fills a dense (n_rows, n_cols) array. Partitioning: rows cut into T equal bands.
template <class V>
void clear_rows(V* dense, size_t n_rows, size_t n_cols, int max_threads) {
  const int T = threads_for(n_rows * n_cols / 4, max_threads);
  parallel_run(T, [&](int t) {
    const size_t lo = even_split(n_rows, T, t), hi = even_split(n_rows, T, t + 1);
    std::memset(static_cast<void*>(dense + lo * n_cols), 0, (hi - lo) * n_cols * sizeof(V));
  });
}

// row[idx[j]] += val[j] for j < m; false if some index is not in [0, n).
template <class V, class I>
bool add_to_dense_row(V* row, size_t n, const I* idx, const V* val, size_t m) {
  bool good = true;
  for (size_t j = 0; j < m; ++j) {
    const uint64_t c = as_u64(idx[j]);
    if (c >= n) {
      good = false;
      continue;
    }
    row[c] = value_add(row[c], val[j]);
  }
  return good;
}

// dense[row[i], col[i]] += data[i] for i in [b, e) with row[i] in [lo, hi) (rows compared as
// unsigned, so negative rows are huge); false if such an entry is out of the shape.
template <class V, class I>
bool add_coo_to_dense(V* dense, size_t n_rows, size_t n_cols, const I* row, const I* col, const V* data, size_t b,
                      size_t e, uint64_t lo, uint64_t hi) {
  bool good = true;
  for (size_t i = b; i < e; ++i) {
    const uint64_t r = as_u64(row[i]);
    if (r < lo || r >= hi) continue;
    const uint64_t c = as_u64(col[i]);
    if (r >= n_rows || c >= n_cols) {
      good = false;
      continue;
    }
    V& d = dense[r * n_cols + c];
    d = value_add(d, data[i]);
  }
  return good;
}

// Dense (n_major, n_minor) row-major array; duplicates summed in input order.
template <class V, class I>
Buffer<V> compressed_to_dense(size_t n_major, size_t n_minor, const I* indptr, const I* indices, const V* data,
                              int max_threads) {
  Buffer<V> out(n_major * n_minor);
  V* dense = out.data();
  const bool zeroed = out.zeroed();
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  // Partitioning: majors cut into T ranges balanced on nnz plus the cost of clearing a
  // dense row; each thread clears (unless the memory is fresh) and fills only its rows.
  const size_t zero_cost = n_minor / 4 + 1;
  const int T = threads_for(nnz + n_major * zero_cost, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, zero_cost);
  std::vector<char> bad(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    if (!zeroed) std::memset(static_cast<void*>(dense + bounds[t] * n_minor), 0, (bounds[t + 1] - bounds[t]) * n_minor * sizeof(V));
    bool good = true;
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      const size_t s = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]);
      good &= add_to_dense_row(dense + r * n_minor, n_minor, indices + s, data + s, e - s);
    }
    bad[t] = !good;
  });
  throw_if_flagged(bad, "compressed_to_dense: minor index out of range (negative, or not below the shape)");
  return out;
}

// Dense (n_rows, n_cols) row-major array from COO entries; duplicates summed in input order.
template <class V, class I>
Buffer<V> coo_to_dense(size_t n_rows, size_t n_cols, const I* row, const I* col, const V* data, size_t nnz,
                       int max_threads) {
  Buffer<V> out(n_rows * n_cols);
  V* dense = out.data();
  if (!out.zeroed()) clear_rows(dense, n_rows, n_cols, max_threads);
  const int T = threads_for(nnz + n_rows * n_cols / 4, max_threads);
  std::vector<char> bad(static_cast<size_t>(T), 0);
  constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();
  if (T == 1) {
    bad[0] = !add_coo_to_dense(dense, n_rows, n_cols, row, col, data, 0, nnz, 0, kAll);
  } else {
    // Rows sorted (as in a canonical COO)? Then each band of rows is one input range.
    // Compared as unsigned, so negative (invalid) rows sort last, into the last band.
    // Partitioning: input cut evenly, each piece also compares across its left edge.
    std::vector<char> sorted(static_cast<size_t>(T), 1);
    parallel_run(T, [&](int t) {
      const size_t b = even_split(nnz, T, t), e = even_split(nnz, T, t + 1);
      size_t i = std::max<size_t>(b, 1);
      while (i < e && as_u64(row[i - 1]) <= as_u64(row[i])) ++i;
      sorted[t] = i >= e;
    });
    const bool rows_sorted = std::all_of(sorted.begin(), sorted.end(), [](char s) { return s != 0; });
    if (rows_sorted) {
      // Partitioning: rows cut into T equal bands, each one input range; thread t adds
      // its band's entries in input order. Out-of-range rows go to the last band.
      auto first_at_least = [&](uint64_t r) {
        return static_cast<size_t>(
            std::lower_bound(row, row + nnz, r, [](I a, uint64_t v) { return as_u64(a) < v; }) - row);
      };
      parallel_run(T, [&](int t) {
        const uint64_t lo = t == 0 ? 0 : even_split(n_rows, T, t);
        const uint64_t hi = t == T - 1 ? kAll : even_split(n_rows, T, t + 1);
        const size_t b = t > 0 ? first_at_least(lo) : 0;
        const size_t e = t < T - 1 ? first_at_least(hi) : nnz;
        bad[t] = !add_coo_to_dense(dense, n_rows, n_cols, row, col, data, b, e, lo, hi);
      });
    } else {
      // Rows in any order: one thread. Random read-modify-writes over the whole dense
      // array are memory bound; grouping entries by band first (to use several threads)
      // measured slower than this single pass.
      bad[0] = !add_coo_to_dense(dense, n_rows, n_cols, row, col, data, 0, nnz, 0, kAll);
    }
  }
  throw_if_flagged(bad, "coo_to_dense: index out of range (negative, or not below the shape)");
  return out;
}

template <class V>
size_t count_nonzeros(const V* x, size_t n) {
  size_t count = 0;
  for (size_t j = 0; j < n; ++j) count += !value_is_zero(x[j]);
  return count;
}

// The nonzeros of row[0 .. n) and their positions, written to idx/val; returns how many.
// Branch-free (every element is written, the cursor advances past nonzeros only), so idx
// and val need room for n.
template <class V, class I>
size_t gather_nonzeros(const V* row, size_t n, I* idx, V* val) {
  size_t k = 0;
  for (size_t j = 0; j < n; ++j) {
    const V v = row[j];
    idx[k] = static_cast<I>(j);
    val[k] = v;
    k += !value_is_zero(v);
  }
  return k;
}

// Compressed form of a dense row-major (n_rows, n_cols) array: the entries that are not
// zero (see value_is_zero), in row-major order.
template <class V, class I>
Compressed<V, I> dense_to_compressed(size_t n_rows, size_t n_cols, const V* dense, int max_threads) {
  if (n_cols > 0) check_fits_index<I>(n_cols - 1, "n_cols - 1");
  Compressed<V, I> out{Buffer<I>(n_rows + 1), Buffer<I>(), Buffer<V>()};
  I* indptr = out.indptr.data();
  // Partitioning: rows cut into T equal ranges (every row costs n_cols); counts are
  // integers and rows independent, so the result does not depend on T.
  const int T = threads_for(n_rows * n_cols, max_threads);
  std::vector<uint64_t> block(static_cast<size_t>(T) + 1, 0);
  parallel_run(T, [&](int t) {
    const size_t b = even_split(n_rows, T, t), e = even_split(n_rows, T, t + 1);
    block[t + 1] = count_nonzeros(dense + b * n_cols, (e - b) * n_cols);
  });
  for (int t = 0; t < T; ++t) block[t + 1] += block[t];
  const size_t nnz = static_cast<size_t>(block[T]);
  check_fits_index<I>(nnz, "nnz");
  out.indices = Buffer<I>(nnz);
  out.data = Buffer<V>(nnz);
  I* idx = out.indices.data();
  V* val = out.data.data();
  indptr[0] = 0;
  parallel_run(T, [&](int t) {
    // Gather each row into scratch, then copy the kept prefix out: writes stay inside
    // this row's slots.
    std::vector<I> scratch_idx(n_cols);
    std::vector<V> scratch_val(n_cols);
    size_t pos = static_cast<size_t>(block[t]);
    for (size_t r = even_split(n_rows, T, t), e = even_split(n_rows, T, t + 1); r < e; ++r) {
      const size_t k = gather_nonzeros(dense + r * n_cols, n_cols, scratch_idx.data(), scratch_val.data());
      std::memcpy(idx + pos, scratch_idx.data(), k * sizeof(I));
      std::memcpy(static_cast<void*>(val + pos), scratch_val.data(), k * sizeof(V));
      pos += k;
      indptr[r + 1] = static_cast<I>(pos);
    }
  });
  return out;
}

// The entries with minor - major == k, summed per position (zeros where none);
// length max(0, min(n_major + min(k, 0), n_minor - max(k, 0))).
template <class V, class I>
Buffer<V> compressed_diagonal(int64_t k, size_t n_major, size_t n_minor, const I* indptr, const I* indices,
                              const V* data, int max_threads) {
  const int64_t len = std::max<int64_t>(
      0, std::min<int64_t>(static_cast<int64_t>(n_major) + std::min<int64_t>(k, 0),
                           static_cast<int64_t>(n_minor) - std::max<int64_t>(k, 0)));
  const size_t L = static_cast<size_t>(len);
  Buffer<V> out(L);
  V* diag = out.data();
  if (L == 0) return out;
  const size_t r0 = k < 0 ? static_cast<size_t>(-k) : 0;
  const uint64_t c0 = k > 0 ? static_cast<uint64_t>(k) : 0;
  const I* sub = indptr + r0;  // the majors that cross the diagonal
  const size_t work = static_cast<size_t>(sub[L] - sub[0]) + L;
  // Partitioning: those majors cut into T ranges of equal nnz; one thread per output value.
  const int T = threads_for(work, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(sub, L, T, 1);
  parallel_run(T, [&](int t) {
    for (size_t i = bounds[t]; i < bounds[t + 1]; ++i) {
      const uint64_t target = c0 + i;
      V acc{};
      for (size_t p = static_cast<size_t>(sub[i]), e = static_cast<size_t>(sub[i + 1]); p < e; ++p)
        if (as_u64(indices[p]) == target) acc = value_add(acc, data[p]);
      diag[i] = acc;
    }
  });
  return out;
}

// spsolve_triangular's checks of a canonical (sorted) square CSR matrix read as
// triangular: each row's end entry on the solve's side (lower: its last, else its
// first) is its diagonal entry unless the row stores entries on the other side.
// Returns (diagonal, status): status 2 if some row ends on the other side (the caller
// then looks at every entry), else 1 if some diagonal entry is 0 (not with unit), else
// 0; the diagonal (0 where a row has none) is empty with unit.
template <class V, class I>
std::pair<Buffer<V>, int> triangular_diagonal(size_t n, const I* indptr, const I* indices,
                                              const V* data, bool lower, bool unit,
                                              int max_threads) {
  Buffer<V> out(unit ? 0 : n);
  V* diag = out.data();
  const int T = threads_for(n, max_threads);
  std::vector<int> status(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    int s = 0;
    for (size_t i = n * t / T, e = n * (t + 1) / T; i < e; ++i) {
      const size_t start = static_cast<size_t>(indptr[i]), end = static_cast<size_t>(indptr[i + 1]);
      V d{};
      int row = 0;
      if (end > start) {
        const size_t at = lower ? end - 1 : start;
        const uint64_t c = as_u64(indices[at]);
        if (lower ? c > i : c < i)
          row = 2;
        else if (c == i)
          d = data[at];
      }
      if (!unit) {
        if (row == 0 && value_is_zero(d)) row = 1;
        diag[i] = d;
      }
      s = std::max(s, row);
    }
    status[static_cast<size_t>(t)] = s;
  });
  return {std::move(out), *std::max_element(status.begin(), status.end())};
}

// A selection's result: (indptr as int64, indices, data).
template <class S, class I>
using Selection = std::tuple<Buffer<int64_t>, Buffer<I>, Buffer<S>>;

// The minor coordinates pos[0], pos[1], ... (repeats allowed) of a compressed matrix,
// renumbered 0, 1, ...: each entry in storage order gives one entry per output position
// of its minor index, in increasing position order. reverse: each output slice is
// written back to front (a sorted input read along a negative step stays sorted).
// Every pos[k] in [0, n_minor) (checked by the caller). Returns (indptr as int64,
// indices, data).
template <class S, class I>
Selection<S, I> take_minor(size_t n_major, size_t n_minor, const I* indptr, const I* indices, const S* data,
                           const int64_t* pos, size_t n_pos, bool reverse, int max_threads) {
  // output positions of each minor index, increasing (a counting sort of pos)
  std::vector<int64_t> first(n_minor + 1, 0), order(n_pos);
  for (size_t k = 0; k < n_pos; ++k) ++first[static_cast<size_t>(pos[k]) + 1];
  for (size_t c = 0; c < n_minor; ++c) first[c + 1] += first[c];
  {
    std::vector<int64_t> next(first.begin(), first.end() - 1);
    for (size_t k = 0; k < n_pos; ++k) order[static_cast<size_t>(next[static_cast<size_t>(pos[k])]++)] = static_cast<int64_t>(k);
  }
  auto copies = [&](I c) {
    const uint64_t u = as_u64(c);
    return u < n_minor ? first[u + 1] - first[u] : 0;  // out-of-range entries select nothing
  };
  Buffer<int64_t> out_ptr(n_major + 1);
  int64_t* ptr = out_ptr.data();
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  // Partitioning: majors cut into T ranges of equal input entries; disjoint outputs.
  const int T = threads_for(nnz + n_major, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, 1);
  parallel_run(T, [&](int t) {
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      int64_t n = 0;
      for (size_t p = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]); p < e; ++p)
        n += copies(indices[p]);
      ptr[r + 1] = n;
    }
  });
  ptr[0] = 0;
  for (size_t r = 0; r < n_major; ++r) ptr[r + 1] += ptr[r];
  const size_t total = static_cast<size_t>(ptr[n_major]);
  Buffer<I> out_idx(total);
  Buffer<S> out_val(total);
  I* idx = out_idx.data();
  S* val = out_val.data();
  parallel_run(T, [&](int t) {
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      size_t q = static_cast<size_t>(ptr[r]);
      for (size_t p = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]); p < e; ++p) {
        const uint64_t u = as_u64(indices[p]);
        if (u >= n_minor) continue;
        for (int64_t j = first[u]; j < first[u + 1]; ++j, ++q) {
          idx[q] = static_cast<I>(order[static_cast<size_t>(j)]);
          val[q] = data[p];
        }
      }
      if (reverse) {
        std::reverse(idx + ptr[r], idx + ptr[r + 1]);
        std::reverse(val + ptr[r], val + ptr[r + 1]);
      }
    }
  });
  return {std::move(out_ptr), std::move(out_idx), std::move(out_val)};
}

// Values at cells (rows[q], cols[q]): the sum (value_add, in storage order) of the
// entries of slice rows[q] with minor index cols[q], zero when there is none. Every
// rows[q] in [0, n_major) (checked by the caller); sorted: every slice's indices are
// non-decreasing (a bisection finds the run), else the slice is scanned.
template <class V, class I>
Buffer<V> sample_values(const I* indptr, const I* indices, const V* data, const int64_t* rows, const int64_t* cols,
                        size_t nq, bool sorted, int max_threads) {
  Buffer<V> out(nq);
  V* y = out.data();
  // Partitioning: queries cut into T equal ranges; disjoint outputs.
  const int T = threads_for(nq * 16, max_threads);
  parallel_run(T, [&](int t) {
    for (size_t q = even_split(nq, T, t), e = even_split(nq, T, t + 1); q < e; ++q) {
      const I* first = indices + static_cast<size_t>(indptr[rows[q]]);
      const I* last = indices + static_cast<size_t>(indptr[rows[q] + 1]);
      const int64_t c = cols[q];
      if (sorted) first = std::lower_bound(first, last, c, [](I a, int64_t b) { return static_cast<int64_t>(a) < b; });
      V acc{};
      for (const I* p = first; p < last; ++p) {
        if (static_cast<int64_t>(*p) == c) acc = value_add(acc, data[p - indices]);
        else if (sorted) break;
      }
      y[q] = acc;
    }
  });
  return out;
}

// Major slices rows[0], rows[1], ... of a compressed matrix, in that order (repeats
// allowed; every row in [0, n_major), checked by the caller): (indptr as int64,
// indices, data).
template <class S, class I>
Selection<S, I> take_major(const I* indptr, const I* indices, const S* data, const int64_t* rows, size_t n_rows,
                           int max_threads) {
  Buffer<int64_t> out_ptr(n_rows + 1);
  int64_t* ptr = out_ptr.data();
  ptr[0] = 0;
  for (size_t k = 0; k < n_rows; ++k) ptr[k + 1] = ptr[k] + static_cast<int64_t>(indptr[rows[k] + 1] - indptr[rows[k]]);
  const size_t nnz = static_cast<size_t>(ptr[n_rows]);
  Buffer<I> out_idx(nnz);
  Buffer<S> out_val(nnz);
  I* idx = out_idx.data();
  S* val = out_val.data();
  // Partitioning: output slices cut into T ranges of equal entries; disjoint outputs.
  const int T = threads_for(nnz + n_rows, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(ptr, n_rows, T, 1);
  parallel_run(T, [&](int t) {
    for (size_t k = bounds[t]; k < bounds[t + 1]; ++k) {
      const size_t p0 = static_cast<size_t>(indptr[rows[k]]), p1 = static_cast<size_t>(indptr[rows[k] + 1]);
      std::copy(indices + p0, indices + p1, idx + ptr[k]);
      std::copy(data + p0, data + p1, val + ptr[k]);
    }
  });
  return {std::move(out_ptr), std::move(out_idx), std::move(out_val)};
}

// Blocks of equal n_major stacked along the minor axis (hstack of CSR, vstack of CSC):
// output slice r is block 0's slice r, then block 1's with its minor indices shifted by
// offsets[1], and so on. Each block's indptr must be valid (check_indptr).
template <class S, class I>
Compressed<S, I> stack_minor(size_t n_major, const std::vector<const I*>& indptrs,
                             const std::vector<const I*>& indices, const std::vector<const S*>& data,
                             const std::vector<I>& offsets, int max_threads) {
  const size_t nb = indptrs.size();
  Compressed<S, I> out;
  out.indptr = Buffer<I>(n_major + 1);
  I* ptr = out.indptr.data();
  // Partitioning: majors cut into T equal ranges for the counts, then ranges of equal
  // output entries for the copies; disjoint output ranges.
  const int Tc = threads_for(n_major * nb, max_threads);
  parallel_run(Tc, [&](int t) {
    for (size_t r = even_split(n_major, Tc, t), e = even_split(n_major, Tc, t + 1); r < e; ++r) {
      I n = 0;
      for (size_t b = 0; b < nb; ++b) n += indptrs[b][r + 1] - indptrs[b][r];
      ptr[r + 1] = n;
    }
  });
  ptr[0] = 0;
  for (size_t r = 0; r < n_major; ++r) ptr[r + 1] += ptr[r];
  const size_t nnz = static_cast<size_t>(ptr[n_major]);
  out.indices = Buffer<I>(nnz);
  out.data = Buffer<S>(nnz);
  I* idx = out.indices.data();
  S* val = out.data.data();
  const int T = threads_for(nnz + n_major * nb, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(ptr, n_major, T, nb);
  parallel_run(T, [&](int t) {
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      size_t q = static_cast<size_t>(ptr[r]);
      for (size_t b = 0; b < nb; ++b) {
        const size_t p0 = static_cast<size_t>(indptrs[b][r]), p1 = static_cast<size_t>(indptrs[b][r + 1]);
        const I shift = offsets[b];
        for (size_t p = p0; p < p1; ++p) idx[q + p - p0] = indices[b][p] + shift;
        std::copy(data[b] + p0, data[b] + p1, val + q);
        q += p1 - p0;
      }
    }
  });
  return out;
}

// The major index of every entry (COO row array of a CSR matrix).
template <class I>
Buffer<I> expand_indptr(size_t n_major, const I* indptr, int max_threads) {
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  Buffer<I> out(nnz);
  I* major = out.data();
  // Partitioning: majors cut into T ranges of equal nnz; disjoint output ranges.
  const int T = threads_for(nnz + n_major, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, 1);
  parallel_run(T, [&](int t) {
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r)
      std::fill(major + static_cast<size_t>(indptr[r]), major + static_cast<size_t>(indptr[r + 1]), static_cast<I>(r));
  });
  return out;
}

}  // namespace mlx_sparse
