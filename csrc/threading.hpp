// Fork-join parallelism on std::thread with fixed, caller-chosen partitions.
//
// Every parallel region runs `f(t)` for t in [0, T): thread 0 is the caller. Work is split
// into T contiguous pieces decided before the region starts (never by work stealing), so
// which thread computes what is a pure function of the input and T, and kernels are
// written so that the result does not even depend on T.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <thread>
#include <vector>

namespace mlx_sparse {

// Below this much work (about one memory pass over this many entries) spawning threads
// costs more than it saves.
constexpr size_t kMinParallelWork = 50000;

inline int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(std::min(n, 1024u));
}

inline std::atomic<int>& thread_setting() {
  static std::atomic<int> setting{hardware_threads()};
  return setting;
}

inline int num_threads() { return thread_setting().load(std::memory_order_relaxed); }

inline void set_num_threads(int n) { thread_setting().store(std::max(1, std::min(n, 1024)), std::memory_order_relaxed); }

// MLX_SPARSE_NUM_THREADS=<n> overrides the default (read once, at import).
inline void init_threads_from_env() {
  if (const char* env = std::getenv("MLX_SPARSE_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && n >= 1) set_num_threads(static_cast<int>(std::min(n, 1024L)));
  }
}

// Threads to use for `work` units of memory-bound work: 1 for small problems, then at
// most one thread per kMinParallelWork / 2 units.
inline int threads_for(size_t work, int max_threads) {
  if (max_threads <= 1 || work < kMinParallelWork) return 1;
  return static_cast<int>(std::min<size_t>(static_cast<size_t>(max_threads), work / (kMinParallelWork / 2)));
}

// Runs f(0) .. f(T-1) concurrently and waits; the first exception thrown by any of them
// is rethrown in the caller after all have finished.
template <class F>
void parallel_run(int T, F&& f) {
  if (T <= 1) {
    f(0);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(T));
  auto body = [&](int t) {
    try {
      f(t);
    } catch (...) {
      errors[static_cast<size_t>(t)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(T - 1));
  try {
    for (int t = 1; t < T; ++t) pool.emplace_back(body, t);
  } catch (...) {  // could not start a thread: finish what started, then report
    for (auto& th : pool) th.join();
    throw;
  }
  body(0);
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// Start of piece t when [0, n) is cut into T nearly equal contiguous pieces.
inline size_t even_split(size_t n, int T, int t) {
  const size_t tt = static_cast<size_t>(t), TT = static_cast<size_t>(T);
  return n / TT * tt + n % TT * tt / TT;
}

// Cuts [0, n) into T contiguous ranges of about equal cost, where weight(r) is the
// cumulative, non-decreasing cost of [0, r). Returns T + 1 boundaries.
template <class W>
std::vector<size_t> split_by_weight(size_t n, int T, W&& weight) {
  std::vector<size_t> bounds(static_cast<size_t>(T) + 1, n);
  bounds[0] = 0;
  if (T <= 1) return bounds;
  const uint64_t total = weight(n);
  for (int t = 1; t < T; ++t) {
    const uint64_t target = static_cast<uint64_t>(even_split(static_cast<size_t>(total), T, t));
    // first major whose cumulative cost reaches the target
    size_t lo = bounds[static_cast<size_t>(t) - 1], hi = n;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (weight(mid) < target)
        lo = mid + 1;
      else
        hi = mid;
    }
    bounds[static_cast<size_t>(t)] = lo;
  }
  return bounds;
}

// [0, n) cut into fixed chunks of `chunk` rows, whole chunks per thread. The chunks are a
// function of n alone, so per-chunk partial sums added in chunk order (the solvers' dot
// products) do not depend on the thread count; threads only decide who computes a chunk.
class Chunks {
 public:
  // Threads take contiguous runs of chunks of about equal cost, weight(r) being the
  // cumulative, non-decreasing cost of rows [0, r) (see split_by_weight).
  template <class W>
  Chunks(size_t n, size_t chunk, int T, W&& weight) : n_(n), chunk_(chunk), count_((n + chunk - 1) / chunk) {
    const size_t most = std::max<size_t>(count_, 1);  // no thread without a chunk
    const int used = static_cast<int>(std::min(static_cast<size_t>(std::max(T, 1)), most));
    bounds_ = split_by_weight(count_, used, [&](size_t c) { return weight(std::min(n, c * chunk)); });
  }
  // Equal cost per row.
  Chunks(size_t n, size_t chunk, int T) : Chunks(n, chunk, T, [](size_t r) { return static_cast<uint64_t>(r); }) {}

  size_t count() const { return count_; }

  // f(lo, hi, c) for every chunk c = [lo, hi); thread t runs chunks [bounds[t], bounds[t + 1]).
  template <class F>
  void run(F&& f) const {
    parallel_run(static_cast<int>(bounds_.size()) - 1, [&](int t) {
      for (size_t c = bounds_[t]; c < bounds_[t + 1]; ++c) f(c * chunk_, std::min(n_, (c + 1) * chunk_), c);
    });
  }

 private:
  size_t n_, chunk_, count_;
  std::vector<size_t> bounds_;
};

// Cuts majors [0, n) into T contiguous ranges of about equal cost, where major r costs
// its entry count plus `row_cost`. Returns T + 1 boundaries. Needs a non-decreasing indptr.
template <class I>
std::vector<size_t> split_by_indptr(const I* indptr, size_t n, int T, size_t row_cost) {
  const uint64_t base = static_cast<uint64_t>(indptr[0]);
  return split_by_weight(n, T, [&](size_t r) {
    return static_cast<uint64_t>(indptr[r]) - base + static_cast<uint64_t>(r) * row_cost;
  });
}

}  // namespace mlx_sparse
