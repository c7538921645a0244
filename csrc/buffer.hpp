// Memory for kernel outputs and scratch: Buffer<T>, and the block cache behind it.
//
// Fresh memory is expensive: each page of a new block faults on first touch and the OS
// zeroes it. Measured on the 2-core Linux VM this project benchmarks on: first touch of a
// new 120 MB block ran at ~3 GB/s with transparent huge pages and ~0.7 GB/s without, a
// second pass over it at ~14 GB/s. Kernel outputs are short-lived (callers copy them into
// MLX arrays and drop them), so large blocks are recycled through a small process-wide
// cache instead of going back to the OS; its size is capped (see BlockCache::limit).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <limits>
#include <mutex>
#include <new>
#include <type_traits>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define MLX_SPARSE_HAVE_MMAP 1
#endif

namespace mlx_sparse {

// Blocks carry a header in front of their data, so that a block can be given back from
// its data pointer alone (all a NumPy capsule's destructor gets).
struct BlockHeader {
  size_t capacity;  // data bytes
  size_t mapped;    // 1: from mmap (cacheable), 0: from malloc
};
constexpr size_t kBlockHeader = 64;  // keeps the data 64-byte aligned
static_assert(sizeof(BlockHeader) <= kBlockHeader, "header fits");

class BlockCache {
 public:
  // Never destroyed: NumPy may free our arrays during interpreter shutdown.
  static BlockCache& instance() {
    static BlockCache* cache = new BlockCache();
    return *cache;
  }

  // A block of at least `bytes` data bytes. *zeroed: whether it is known to hold zeros
  // (fresh from the OS).
  void* acquire(size_t bytes, bool* zeroed) {
    *zeroed = false;
    if (bytes < kMinCached) {
      char* base = static_cast<char*>(std::malloc(bytes + kBlockHeader));
      if (base == nullptr) throw std::bad_alloc();
      *reinterpret_cast<BlockHeader*>(base) = BlockHeader{bytes, 0};
      return base + kBlockHeader;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // best fit among cached blocks no more than twice as large as asked
      size_t best = free_.size();
      for (size_t i = 0; i < free_.size(); ++i) {
        const size_t cap = header(free_[i])->capacity;
        if (cap >= bytes && cap / 2 <= bytes && (best == free_.size() || cap < header(free_[best])->capacity))
          best = i;
      }
      if (best != free_.size()) {
        char* data = free_[best];
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
        cached_ -= header(data)->capacity;
        return data;
      }
    }
    *zeroed = true;
    return map_block(bytes);
  }

  void release(void* p) {
    if (p == nullptr) return;
    char* data = static_cast<char*>(p);
    BlockHeader* h = header(data);
    if (!h->mapped) {
      std::free(data - kBlockHeader);
      return;
    }
    std::deque<char*> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (h->capacity <= limit_) {
        // oldest first out, until the newcomer fits
        while (!free_.empty() && (cached_ + h->capacity > limit_ || free_.size() >= kMaxBlocks)) {
          cached_ -= header(free_.front())->capacity;
          evicted.push_back(free_.front());
          free_.pop_front();
        }
        free_.push_back(data);
        cached_ += h->capacity;
        data = nullptr;
      }
    }
    for (char* d : evicted) unmap_block(d);
    if (data != nullptr) unmap_block(data);
  }

  // Bytes of idle blocks kept at most (0: none).
  void set_limit(size_t bytes) {
    std::deque<char*> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes;
      while (!free_.empty() && cached_ > limit_) {
        cached_ -= header(free_.front())->capacity;
        evicted.push_back(free_.front());
        free_.pop_front();
      }
    }
    for (char* d : evicted) unmap_block(d);
  }

  size_t limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }

 private:
  static constexpr size_t kMinCached = size_t(1) << 20;  // smaller blocks: plain malloc
  static constexpr size_t kMaxBlocks = 32;
  static constexpr size_t kHugePage = size_t(2) << 20;

  BlockCache() {
    // default: 1 GiB, at most an eighth of physical memory
    limit_ = size_t(1) << 30;
#if defined(MLX_SPARSE_HAVE_MMAP) && defined(_SC_PHYS_PAGES)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) limit_ = std::min(limit_, static_cast<size_t>(pages) / 8 * static_cast<size_t>(page));
#endif
  }

  static BlockHeader* header(char* data) { return reinterpret_cast<BlockHeader*>(data - kBlockHeader); }

  // A new zero-filled block, its data starting a header past a huge page boundary, with
  // transparent huge pages requested (as NumPy does): far fewer faults and TLB misses.
  static char* map_block(size_t bytes) {
#if defined(MLX_SPARSE_HAVE_MMAP)
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t length = (bytes + kBlockHeader + page - 1) / page * page;
    if (length < bytes) throw std::bad_alloc();
    void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    // trim to a huge-page-aligned start
    const uintptr_t begin = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (begin + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > begin) munmap(raw, aligned - begin);
    const uintptr_t tail = aligned + length, end = begin + length + kHugePage;
    if (end > tail) munmap(reinterpret_cast<void*>(tail), end - tail);
    char* base = reinterpret_cast<char*>(aligned);
#if defined(MADV_HUGEPAGE)
    madvise(base, length, MADV_HUGEPAGE);
#endif
    *reinterpret_cast<BlockHeader*>(base) = BlockHeader{length - kBlockHeader, 1};
    return base + kBlockHeader;
#else
    char* base = static_cast<char*>(std::calloc(bytes + kBlockHeader, 1));
    if (base == nullptr) throw std::bad_alloc();
    *reinterpret_cast<BlockHeader*>(base) = BlockHeader{bytes, 0};
    return base + kBlockHeader;
#endif
  }

  static void unmap_block(char* data) {
#if defined(MLX_SPARSE_HAVE_MMAP)
    munmap(data - kBlockHeader, header(data)->capacity + kBlockHeader);
#else
    std::free(data - kBlockHeader);
#endif
  }

  std::mutex mutex_;
  std::deque<char*> free_;  // idle blocks (data pointers), oldest first
  size_t cached_ = 0;
  size_t limit_;
};

// Frees memory obtained from Buffer::release().
inline void free_block(void* p) { BlockCache::instance().release(p); }

// An uninitialised array from the block cache; the bindings hand its memory to NumPy
// without copying (freed with free_block).
template <class T>
class Buffer {
  static_assert(std::is_trivially_copyable<T>::value, "Buffer holds trivially copyable values");

 public:
  Buffer() = default;
  explicit Buffer(size_t n) : n_(n) {
    if (n > (std::numeric_limits<size_t>::max() - 2 * kBlockHeader) / sizeof(T)) throw std::bad_alloc();
    p_ = static_cast<T*>(BlockCache::instance().acquire(n * sizeof(T), &zeroed_));
  }

  Buffer(Buffer&& o) noexcept : p_(o.p_), n_(o.n_), zeroed_(o.zeroed_) { o.p_ = nullptr, o.n_ = 0; }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      free_block(p_);
      p_ = o.p_, n_ = o.n_, zeroed_ = o.zeroed_;
      o.p_ = nullptr, o.n_ = 0;
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { free_block(p_); }

  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) { return p_[i]; }
  // Whether the memory is known to be zero-filled (fresh from the OS); otherwise callers
  // that need zeros clear it themselves (in parallel, where they first write).
  bool zeroed() const { return zeroed_; }

  // Gives up ownership; free the memory with free_block.
  T* release() {
    T* p = p_;
    p_ = nullptr;
    n_ = 0;
    return p;
  }

  // Drops the tail (the memory stays with the block).
  void shrink(size_t n) { n_ = std::min(n, n_); }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
  bool zeroed_ = false;
};

}  // namespace mlx_sparse
