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
#include <vector>

#include "threading.hpp"
#include "values.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace mlx_sparse {

// ================================================================= buffers and results

// An uninitialised malloc'd array that the bindings hand to NumPy without copying.
template <class T>
class Buffer {
  static_assert(std::is_trivially_copyable<T>::value, "Buffer holds trivially copyable values");

 public:
  Buffer() = default;
  explicit Buffer(size_t n) : n_(n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::bad_alloc();
    p_ = static_cast<T*>(allocate(std::max<size_t>(n, 1) * sizeof(T)));
  }
  Buffer(Buffer&& o) noexcept : p_(o.p_), n_(o.n_) {
    o.p_ = nullptr;
    o.n_ = 0;
  }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      std::free(p_);
      p_ = o.p_;
      n_ = o.n_;
      o.p_ = nullptr;
      o.n_ = 0;
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(p_); }

  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) { return p_[i]; }

  // Gives up ownership of the (malloc'd) memory.
  T* release() {
    T* p = p_;
    p_ = nullptr;
    n_ = 0;
    return p;
  }

  // Drops the tail; large blocks shrink in place.
  void shrink(size_t n) {
    if (n >= n_) return;
    if (void* q = std::realloc(p_, std::max<size_t>(n, 1) * sizeof(T))) p_ = static_cast<T*>(q);
    n_ = n;
  }

 private:
  // Kernel outputs are written once, in random order: with 4 KiB pages the page faults
  // of a fresh block cost as much as the kernel. Large blocks therefore start on a huge
  // page boundary and ask for transparent huge pages (as NumPy does for its arrays).
  static void* allocate(size_t bytes) {
    void* p = nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr size_t kHuge = size_t(2) << 20;
    if (bytes >= 2 * kHuge) {
      if (posix_memalign(&p, kHuge, bytes) != 0) throw std::bad_alloc();
      madvise(p, (bytes + kHuge - 1) & ~(kHuge - 1), MADV_HUGEPAGE);
      return p;
    }
#endif
    p = std::malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }

  T* p_ = nullptr;
  size_t n_ = 0;
};

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

// Threads for a scatter through per-thread histograms of `n_buckets` counters: each
// thread's histogram is zeroed and scanned, so stop adding threads once the histograms
// outweigh the items being scattered.
inline int histogram_threads(size_t n_items, size_t n_buckets, int max_threads) {
  int T = threads_for(n_items, max_threads);
  while (T > 1 && static_cast<uint64_t>(T) * n_buckets > 4 * static_cast<uint64_t>(n_items) + (1u << 16)) --T;
  return T;
}

// ================================================================= slice primitives

// Sorts one slice's (index, value) pairs by index, stably (equal indices keep their
// order, so duplicates are later summed in input order). Values move as raw bytes.
template <class I, class S>
class SliceSorter {
 public:
  void operator()(I* idx, S* val, size_t m) {
    if (m < 2) return;
    if (m <= kInsertionMax) {
      insertion_sort(idx, val, m);
      return;
    }
    size_t j = 1;
    while (j < m && !(idx[j] < idx[j - 1])) ++j;
    if (j == m) return;  // already sorted: common, and O(m) to detect
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

 private:
  static constexpr size_t kInsertionMax = 32;

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
// order); returns the number written. Works in place when out <= in.
template <class V, class I>
size_t merge_duplicates(const I* in_idx, const V* in_val, size_t m, I* out_idx, V* out_val) {
  if (m == 0) return 0;
  I cur = in_idx[0];
  V acc = in_val[0];
  size_t w = 0;
  for (size_t j = 1; j < m; ++j) {
    const I c = in_idx[j];
    const V v = in_val[j];
    if (c == cur) {
      acc = value_add(acc, v);
    } else {
      out_idx[w] = cur;
      out_val[w] = acc;
      ++w;
      cur = c;
      acc = v;
    }
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

// Prefix sums of T key histograms (thread-major: counts[t * n_keys + k]): key k's items
// go to [key_ptr[k], key_ptr[k + 1]).
// Partitioning: keys cut evenly into P ranges; a range starts at the exact integer sum of
// all earlier ranges, so the result is independent of P.
template <class I>
void histograms_to_key_ptr(const I* counts, int T, size_t n_keys, I* key_ptr, int max_threads) {
  const size_t Tz = static_cast<size_t>(T);
  const int P = threads_for(n_keys * Tz, max_threads);
  std::vector<uint64_t> block(static_cast<size_t>(P) + 1, 0);
  parallel_run(P, [&](int p) {
    uint64_t s = 0;
    for (size_t k = even_split(n_keys, P, p), e = even_split(n_keys, P, p + 1); k < e; ++k)
      for (size_t t = 0; t < Tz; ++t) s += static_cast<uint64_t>(counts[t * n_keys + k]);
    block[p + 1] = s;
  });
  for (int p = 0; p < P; ++p) block[p + 1] += block[p];
  parallel_run(P, [&](int p) {
    uint64_t run = block[p];
    for (size_t k = even_split(n_keys, P, p), e = even_split(n_keys, P, p + 1); k < e; ++k) {
      key_ptr[k] = static_cast<I>(run);
      for (size_t t = 0; t < Tz; ++t) run += static_cast<uint64_t>(counts[t * n_keys + k]);
    }
  });
  key_ptr[n_keys] = static_cast<I>(block[P]);
}

// Items a bucket of the bucketed sort aims to hold: their scratch copy stays in L2.
constexpr size_t kBucketBytes = size_t(384) << 10;
// Keys per bucket at most: local keys are stored in 16 bits.
constexpr size_t kMaxBucketKeys = size_t(1) << 16;

// Stable counting sort of items (key, idx, val) by key in [0, n_keys), in two cache-
// friendly passes.
//
// Scattering each item straight to its final slot costs a cache and TLB miss per item
// once there are millions of keys. Instead keys are grouped into buckets of consecutive
// keys holding about kBucketBytes of items. Pass B appends every item to its bucket's
// range of the output (a few hundred sequential streams); pass C counting-sorts each
// bucket by key in a scratch buffer that stays in cache and hands it to `finish`.
//
// counts: the T per-piece key histograms (thread-major) of the caller's counting pass over
// the same T input pieces; key_ptr (n_keys + 1) receives the key offsets.
// produce(t, emit) calls emit(key, idx, val) for the items of piece t, in input order.
// finish(t, k0, k1, begin, end, idx, val) gets the items of keys [k0, k1) (output range
// [begin, end)) at idx[0 .. end - begin), val[...], sorted by key, ties in input order. They
// are in scratch, or already in place at out_idx + begin; finish must consume them.
// Pass C calls finish for consecutive buckets on each thread, in key order, thread t's
// buckets all before thread t + 1's.
template <class I, class S, class Produce, class Finish>
void bucketed_counting_sort(int T, size_t n_keys, const I* counts, I* key_ptr, I* out_idx, S* out_val,
                            int max_threads, Produce&& produce, Finish&& finish) {
  histograms_to_key_ptr(counts, T, n_keys, key_ptr, max_threads);
  const size_t n = static_cast<size_t>(key_ptr[n_keys]);

  // Buckets: cut before key k when the bucket would outgrow its target (a key bigger than
  // the target gets a bucket of its own). Bucket b: keys [first_key[b], first_key[b + 1]),
  // output range [start[b], start[b + 1]).
  const size_t target = std::max<size_t>(1, kBucketBytes / (sizeof(I) + sizeof(S)));
  std::vector<size_t> first_key{0}, start{0};
  for (size_t k = 1; k < n_keys; ++k) {
    if (static_cast<size_t>(key_ptr[k + 1]) - start.back() > target || k - first_key.back() >= kMaxBucketKeys) {
      first_key.push_back(k);
      start.push_back(static_cast<size_t>(key_ptr[k]));
    }
  }
  first_key.push_back(n_keys);
  start.push_back(n);
  const size_t nb = first_key.size() - 1;
  const size_t Tz = static_cast<size_t>(T);

  // Bucket of each key. Partitioning: buckets cut evenly; disjoint key ranges.
  Buffer<uint32_t> bucket_of(n_keys);
  const int Pk = threads_for(n_keys, max_threads);
  parallel_run(Pk, [&](int p) {
    for (size_t b = even_split(nb, Pk, p), e = even_split(nb, Pk, p + 1); b < e; ++b)
      std::fill(bucket_of.data() + first_key[b], bucket_of.data() + first_key[b + 1], static_cast<uint32_t>(b));
  });

  // Each piece's first output position in each bucket: within a bucket, piece by piece.
  // Partitioning: one thread per piece, summing its own histogram.
  std::vector<size_t> cursor(Tz * nb);
  parallel_run(T, [&](int t) {
    const I* cnt = counts + static_cast<size_t>(t) * n_keys;
    for (size_t b = 0; b < nb; ++b) {
      size_t s = 0;
      for (size_t k = first_key[b]; k < first_key[b + 1]; ++k) s += static_cast<size_t>(cnt[k]);
      cursor[static_cast<size_t>(t) * nb + b] = s;
    }
  });
  for (size_t b = 0; b < nb; ++b) {
    size_t run = start[b];
    for (size_t t = 0; t < Tz; ++t) {
      const size_t c = cursor[t * nb + b];
      cursor[t * nb + b] = run;
      run += c;
    }
  }

  // Pass B. Partitioning: the caller's T input pieces; piece t appends to each bucket
  // after pieces < t, in input order, so every bucket lists its items in input order.
  Buffer<uint16_t> local_key(n);
  uint16_t* lkey = local_key.data();
  parallel_run(T, [&](int t) {
    size_t* cur = cursor.data() + static_cast<size_t>(t) * nb;
    produce(t, [&](size_t key, I idx, S val) {
      const uint32_t b = bucket_of[key];
      const size_t p = cur[b]++;
      out_idx[p] = idx;
      out_val[p] = val;
      lkey[p] = static_cast<uint16_t>(key - first_key[b]);
    });
  });
  bucket_of = Buffer<uint32_t>();

  // Pass C. Partitioning: buckets cut into P ranges of equal item count; each bucket is
  // sorted by one thread from its own items only.
  const int P = threads_for(n + n_keys, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(start.data(), nb, P, 1);
  parallel_run(P, [&](int t) {
    std::vector<I> s_idx;
    std::vector<S> s_val;
    std::vector<size_t> next;
    for (size_t b = bounds[t]; b < bounds[t + 1]; ++b) {
      const size_t a = start[b], e = start[b + 1], k0 = first_key[b], k1 = first_key[b + 1];
      if (k1 - k0 <= 1 || a == e) {  // nothing to reorder
        finish(t, k0, k1, a, e, out_idx + a, out_val + a);
        continue;
      }
      if (s_idx.size() < e - a) {
        s_idx.resize(e - a);
        s_val.resize(e - a);
      }
      next.resize(k1 - k0);
      for (size_t k = k0; k < k1; ++k) next[k - k0] = static_cast<size_t>(key_ptr[k]) - a;
      for (size_t p = a; p < e; ++p) {
        const size_t q = next[lkey[p]]++;
        s_idx[q] = out_idx[p];
        s_val[q] = out_val[p];
      }
      finish(t, k0, k1, a, e, s_idx.data(), s_val.data());
    }
  });
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
  I* idx = out.indices.data();
  V* vals = out.data.data();
  const S* data_s = reinterpret_cast<const S*>(data);

  // Count per major. Partitioning: the input cut evenly into T pieces, one histogram each.
  const int T = histogram_threads(nnz, n_major, max_threads);
  Buffer<I> counts(static_cast<size_t>(T) * n_major);
  std::vector<char> bad(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    I* cnt = counts.data() + static_cast<size_t>(t) * n_major;
    std::fill(cnt, cnt + n_major, I(0));
    for (size_t i = even_split(nnz, T, t), e = even_split(nnz, T, t + 1); i < e; ++i) {
      const uint64_t r = as_u64(major[i]);
      if (r >= n_major || as_u64(minor[i]) >= n_minor) {
        bad[t] = 1;
        return;
      }
      ++cnt[r];
    }
  });
  throw_if_flagged(bad, "coo_to_compressed: index out of range (negative, or not below the shape)");

  // Group by major; then, per bucket of slices, sort each slice by minor and sum its
  // duplicates, writing the kept entries contiguously from the thread's first position
  // (never past what the thread has consumed, so in place is safe).
  struct Block {
    size_t start = SIZE_MAX, pos = 0, k_begin = 0, k_end = 0;
  };
  const size_t n_threads = static_cast<size_t>(std::max(max_threads, 1));
  std::vector<Block> blocks(n_threads);
  std::vector<SliceSorter<I, S>> sorters(n_threads);
  Buffer<I> key_ptr(n_major + 1);
  I* indptr = out.indptr.data();
  bucketed_counting_sort(
      T, n_major, counts.data(), key_ptr.data(), idx, reinterpret_cast<S*>(vals), max_threads,
      [&](int t, auto&& emit) {
        for (size_t i = even_split(nnz, T, t), e = even_split(nnz, T, t + 1); i < e; ++i)
          emit(static_cast<size_t>(major[i]), minor[i], data_s[i]);
      },
      [&](int t, size_t k0, size_t k1, size_t begin, size_t, I* b_idx, S* b_val) {
        Block& blk = blocks[t];
        if (blk.start == SIZE_MAX) {
          blk.start = blk.pos = begin;
          blk.k_begin = k0;
        }
        blk.k_end = k1;
        for (size_t k = k0; k < k1; ++k) {
          const size_t s = static_cast<size_t>(key_ptr[k]) - begin, m = static_cast<size_t>(key_ptr[k + 1]) - begin - s;
          sorters[t](b_idx + s, b_val + s, m);
          blk.pos += merge_duplicates(b_idx + s, reinterpret_cast<V*>(b_val + s), m, idx + blk.pos, vals + blk.pos);
          indptr[k + 1] = static_cast<I>(blk.pos);
        }
      });
  counts = Buffer<I>();
  key_ptr = Buffer<I>();

  // Slide the threads' blocks left, in order (block t may land on block t-1's old place,
  // so this is serial), then shift their indptr entries.
  size_t kept = 0;
  for (Block& blk : blocks) {
    if (blk.start == SIZE_MAX) continue;
    const size_t n = blk.pos - blk.start;
    if (blk.start != kept && n != 0) {
      std::memmove(idx + kept, idx + blk.start, n * sizeof(I));
      std::memmove(static_cast<void*>(vals + kept), vals + blk.start, n * sizeof(V));
    }
    blk.pos = blk.start - kept;  // now: the shift
    kept += n;
  }
  // Partitioning: one thread per block, fixing its own majors' entries.
  size_t used = 0;
  for (size_t t = 0; t < n_threads; ++t)
    if (blocks[t].start != SIZE_MAX) used = t + 1;
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
  check_fits_index<I>(n_major, "n_major");
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  Compressed<S, I> out{Buffer<I>(n_minor + 1), Buffer<I>(nnz), Buffer<S>(nnz)};
  I* out_idx = out.indices.data();
  S* out_val = out.data.data();

  // Count per minor. Partitioning: majors cut into T ranges of equal nnz, one histogram each.
  const int T = histogram_threads(nnz + n_major, n_minor, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, 1);
  Buffer<I> counts(static_cast<size_t>(T) * n_minor);
  std::vector<char> bad(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    I* cnt = counts.data() + static_cast<size_t>(t) * n_minor;
    std::fill(cnt, cnt + n_minor, I(0));
    for (size_t p = static_cast<size_t>(indptr[bounds[t]]), e = static_cast<size_t>(indptr[bounds[t + 1]]); p < e;
         ++p) {
      const uint64_t c = as_u64(indices[p]);
      if (c >= n_minor) {
        bad[t] = 1;
        return;
      }
      ++cnt[c];
    }
  });
  throw_if_flagged(bad, "compressed_transpose: minor index out of range (negative, or not below the shape)");

  // Items in major order, keyed by minor: stable, so each output slice is sorted.
  bucketed_counting_sort(
      T, n_minor, counts.data(), out.indptr.data(), out_idx, out_val, max_threads,
      [&](int t, auto&& emit) {
        for (size_t r = bounds[t]; r < bounds[t + 1]; ++r)
          for (size_t p = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]); p < e; ++p)
            emit(static_cast<size_t>(indices[p]), static_cast<I>(r), data[p]);
      },
      [&](int, size_t, size_t, size_t begin, size_t end, I* b_idx, S* b_val) {
        if (b_idx == out_idx + begin) return;
        std::memcpy(out_idx + begin, b_idx, (end - begin) * sizeof(I));
        std::memcpy(out_val + begin, b_val, (end - begin) * sizeof(S));
      });
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
    const size_t b = static_cast<size_t>(indptr[bounds[t]]), e = static_cast<size_t>(indptr[bounds[t + 1]]);
    std::memcpy(idx + b, indices + b, (e - b) * sizeof(I));
    std::memcpy(val + b, data + b, (e - b) * sizeof(S));
    SliceSorter<I, S> sorter;
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      const size_t s = static_cast<size_t>(indptr[r]);
      sorter(idx + s, val + s, static_cast<size_t>(indptr[r + 1]) - s);
    }
  });
  return out;
}

// Runs of equal adjacent minor indices in each slice summed into one entry (zero sums
// kept). With sorted slices that removes all duplicates.
template <class V, class I>
Compressed<V, I> sum_duplicates(size_t n_major, const I* indptr, const I* indices, const V* data, int max_threads) {
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  Compressed<V, I> out{Buffer<I>(n_major + 1), Buffer<I>(nnz), Buffer<V>(nnz)};
  I* idx = out.indices.data();
  V* val = out.data.data();
  const size_t kept = compact_slices(
      indptr, n_major, out.indptr.data(), max_threads,
      [&](int, size_t, size_t begin, size_t end, size_t pos) {
        return merge_duplicates(indices + begin, data + begin, end - begin, idx + pos, val + pos);
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

// Dense (n_major, n_minor) row-major array; duplicates summed in input order.
template <class V, class I>
Buffer<V> compressed_to_dense(size_t n_major, size_t n_minor, const I* indptr, const I* indices, const V* data,
                              int max_threads) {
  Buffer<V> out(n_major * n_minor);
  V* dense = out.data();
  const size_t nnz = static_cast<size_t>(indptr[n_major]);
  // Partitioning: majors cut into T ranges balanced on nnz plus the cost of zeroing a
  // dense row; each thread zeroes and fills only its own rows.
  const size_t zero_cost = n_minor / 4 + 1;
  const int T = threads_for(nnz + n_major * zero_cost, max_threads);
  const std::vector<size_t> bounds = split_by_indptr(indptr, n_major, T, zero_cost);
  std::vector<char> bad(static_cast<size_t>(T), 0);
  parallel_run(T, [&](int t) {
    V* band = dense + bounds[t] * n_minor;
    std::memset(static_cast<void*>(band), 0, (bounds[t + 1] - bounds[t]) * n_minor * sizeof(V));
    for (size_t r = bounds[t]; r < bounds[t + 1]; ++r) {
      V* row = dense + r * n_minor;
      for (size_t p = static_cast<size_t>(indptr[r]), e = static_cast<size_t>(indptr[r + 1]); p < e; ++p) {
        const uint64_t c = as_u64(indices[p]);
        if (c >= n_minor) {
          bad[t] = 1;
          continue;
        }
        row[c] = value_add(row[c], data[p]);
      }
    }
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
  const int T = threads_for(nnz + n_rows * n_cols / 4, max_threads);
  std::vector<char> bad(static_cast<size_t>(T), 0);
  auto add_entry = [&](int t, size_t i) {
    const uint64_t r = as_u64(row[i]), c = as_u64(col[i]);
    if (r >= n_rows || c >= n_cols) {
      bad[t] = 1;
      return;
    }
    V& d = dense[r * n_cols + c];
    d = value_add(d, data[i]);
  };
  // Rows sorted (as in a canonical COO)? Then each band of rows is one input range.
  // Compared as unsigned, so negative (invalid) rows sort last, into the last band.
  std::vector<char> sorted(static_cast<size_t>(T), 1);
  if (T > 1) {
    // Partitioning: input cut evenly, each chunk also compares across its left edge.
    parallel_run(T, [&](int t) {
      const size_t b = even_split(nnz, T, t), e = even_split(nnz, T, t + 1);
      bool ok = true;
      for (size_t i = std::max<size_t>(b, 1); i < e; ++i) ok &= as_u64(row[i - 1]) <= as_u64(row[i]);
      sorted[t] = ok;
    });
  }
  const bool rows_sorted = std::all_of(sorted.begin(), sorted.end(), [](char s) { return s != 0; });
  // Partitioning: rows cut into T equal bands; thread t zeroes its band and adds exactly
  // the entries whose row is in it, in input order, so each dense element sees its
  // duplicates in input order whatever T is. Out-of-range rows go to the last band.
  parallel_run(T, [&](int t) {
    const size_t lo = even_split(n_rows, T, t), hi = even_split(n_rows, T, t + 1);
    std::memset(static_cast<void*>(dense + lo * n_cols), 0, (hi - lo) * n_cols * sizeof(V));
    if (T == 1) {
      for (size_t i = 0; i < nnz; ++i) add_entry(t, i);
    } else if (rows_sorted) {
      // the band's entries are the input range of rows in [lo, hi) (and beyond, for the last)
      auto first_at_least = [&](size_t rr) {
        return static_cast<size_t>(
            std::lower_bound(row, row + nnz, rr, [](I a, size_t v) { return as_u64(a) < v; }) - row);
      };
      const size_t b = t == 0 ? 0 : first_at_least(lo);
      const size_t e = t == T - 1 ? nnz : first_at_least(hi);
      for (size_t i = b; i < e; ++i) add_entry(t, i);
    } else {
      const uint64_t top = t == T - 1 ? std::numeric_limits<uint64_t>::max() : hi;
      for (size_t i = 0; i < nnz; ++i) {
        const uint64_t r = as_u64(row[i]);
        if (r >= lo && r < top) add_entry(t, i);
      }
    }
  });
  throw_if_flagged(bad, "coo_to_dense: index out of range (negative, or not below the shape)");
  return out;
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
    uint64_t total = 0;
    for (size_t r = even_split(n_rows, T, t), e = even_split(n_rows, T, t + 1); r < e; ++r) {
      const V* row = dense + r * n_cols;
      size_t count = 0;
      for (size_t j = 0; j < n_cols; ++j) count += !value_is_zero(row[j]);
      total += count;
    }
    block[t + 1] = total;
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
    // Gather a row into scratch without branches (write every element, advance past
    // nonzeros only), then copy the kept prefix out: writes stay inside this row's slots.
    std::vector<I> scratch_idx(n_cols);
    std::vector<V> scratch_val(n_cols);
    size_t pos = static_cast<size_t>(block[t]);
    for (size_t r = even_split(n_rows, T, t), e = even_split(n_rows, T, t + 1); r < e; ++r) {
      const V* row = dense + r * n_cols;
      size_t k = 0;
      for (size_t j = 0; j < n_cols; ++j) {
        scratch_idx[k] = static_cast<I>(j);
        scratch_val[k] = row[j];
        k += !value_is_zero(row[j]);
      }
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
