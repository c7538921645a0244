// Metal prelude of the portable kernel bodies in bodies/*.inc (see __init__.py).
//
// Above the "@@ source" line: file scope, passed as mx.fast.metal_kernel's `header`
// (MLX has already included metal_stdlib and its bfloat16_t / complex64_t). Below it:
// function scope, put in front of every body. It must stay in the source text: MLX
// adds thread attributes (thread_position_in_grid, ...) to the kernel's signature
// only when it finds their names in `source`. Apple GPUs run SIMD groups of 32.

#define WARP 32
#define DEVICE_FN inline
#define GLOBAL device  // address space of kernel buffers
typedef long i64;
#define I64_MIN(a, b) ((a) < (b) ? (a) : (b))
#define I64_MAX(a, b) ((a) > (b) ? (a) : (b))
#define UNROLL _Pragma("unroll")
#define LOAD(ptr, i) ((ptr)[i])        // a gathered value (CUDA: read-only cache)
#define LOAD_ONCE(ptr, i) ((ptr)[i])   // a value read once (CUDA: evict-first)

// SIMD shuffles of accumulator types; 64-bit integers and complex move as 32-bit pairs.
template <typename V>
inline V mlxs_shfl_down(V v, ushort off) { return simd_shuffle_down(v, off); }
inline long mlxs_shfl_down(long v, ushort off) {
  return as_type<long>(simd_shuffle_down(as_type<uint2>(v), off));
}
inline ulong mlxs_shfl_down(ulong v, ushort off) {
  return as_type<ulong>(simd_shuffle_down(as_type<uint2>(v), off));
}
inline complex64_t mlxs_shfl_down(complex64_t v, ushort off) {
  return complex64_t(simd_shuffle_down(v.real, off), simd_shuffle_down(v.imag, off));
}

template <typename V>
inline V mlxs_shfl(V v, ushort src) { return simd_shuffle(v, src); }
inline long mlxs_shfl(long v, ushort src) {
  return as_type<long>(simd_shuffle(as_type<uint2>(v), src));
}
inline ulong mlxs_shfl(ulong v, ushort src) {
  return as_type<ulong>(simd_shuffle(as_type<uint2>(v), src));
}
inline complex64_t mlxs_shfl(complex64_t v, ushort src) {
  return complex64_t(simd_shuffle(v.real, src), simd_shuffle(v.imag, src));
}
#define WARP_SHFL(v, src) mlxs_shfl((v), (ushort)(src))
#define WARP_BALLOT(pred) ((uint)((simd_vote::vote_t)simd_ballot(pred)))
#define FIRST_LANE(mask) ((int)ctz(mask))
#define POPCOUNT(mask) ((int)popcount(mask))

// Sum over lanes [lo, 2*hi) of each aligned group of 2*hi lanes, in steps
// hi, hi/2, ..., lo; the group's first lane holds the result. The whole SIMD group calls it.
template <typename V>
inline V mlxs_tree_sum(V v, int hi, int lo) {
  for (int off = hi; off >= lo; off >>= 1) v = v + mlxs_shfl_down(v, (ushort)off);
  return v;
}
#define GROUP_SUM(v, width) mlxs_tree_sum((v), (width) / 2, 1)
#define CROSS_GROUP_SUM(v, width) mlxs_tree_sum((v), WARP / 2, (width))
#define WARP_SUM(v) mlxs_tree_sum((v), WARP / 2, 1)
#define WARP_COUNT(pred) ((int)simd_sum((uint)((pred) ? 1 : 0)))

// Kernels with atomic outputs are built with atomic_outputs=True (device atomic<A>*);
// Metal has atomic adds of 32-bit int, uint and float only.
#define ATOMIC_ADD(arr, i, v) atomic_fetch_add_explicit(&(arr)[i], (v), memory_order_relaxed)
#define ATOMIC_FETCH_ADD(arr, i, v) atomic_fetch_add_explicit(&(arr)[i], (v), memory_order_relaxed)
#define ATOMIC_STORE(arr, i, v) atomic_store_explicit(&(arr)[i], (v), memory_order_relaxed)

// Shared (threadgroup) memory: declarations, pointers into it, and the group barrier.
#define SHARED threadgroup
#define SHARED_PTR threadgroup
#define BARRIER() threadgroup_barrier(mem_flags::mem_threadgroup)

// @@ source
#define GID ((i64)thread_position_in_grid.x)
#define GSIZE ((i64)threads_per_grid.x)
#define GID_Y ((i64)thread_position_in_grid.y)
#define LID ((int)thread_position_in_threadgroup.x)
#define LANE ((int)thread_index_in_simdgroup)
#define GROUP_ID ((i64)threadgroup_position_in_grid.x)
#define GROUP_COUNT ((i64)threadgroups_per_grid.x)
#define SHARED_ARRAY(type, name, n)                                  \
  threadgroup alignas(16) uchar name##_raw[(n) * sizeof(type)];      \
  threadgroup type* name = reinterpret_cast<threadgroup type*>(name##_raw)
