// CUDA prelude of the portable kernel bodies in bodies/*.inc (see __init__.py).
//
// Above the "@@ source" line: file scope, passed as mx.fast.cuda_kernel's `header`
// (MLX has already included its device utils: cuda_fp16.h, cuda_bf16.h,
// cooperative_groups.h and mlx::core::cu::complex64_t). Below it: function scope,
// put in front of every body. The Metal prelude defines the same names.

#define WARP 32
#define DEVICE_FN __device__ __forceinline__
#define GLOBAL  // address space of kernel buffers (Metal: device)
typedef long long i64;
#define I64_MIN(a, b) ((a) < (b) ? (a) : (b))
#define I64_MAX(a, b) ((a) > (b) ? (a) : (b))
#define UNROLL _Pragma("unroll")

// Read-only loads through the non-coherent cache where CUDA has an overload.
template <typename V>
DEVICE_FN V mlxs_ldg(const V* p) { return *p; }
DEVICE_FN float mlxs_ldg(const float* p) { return __ldg(p); }
DEVICE_FN int mlxs_ldg(const int* p) { return __ldg(p); }
DEVICE_FN long mlxs_ldg(const long* p) { return __ldg(p); }
DEVICE_FN long long mlxs_ldg(const long long* p) { return __ldg(p); }
DEVICE_FN __half mlxs_ldg(const __half* p) { return __ldg(p); }
#define LOAD(ptr, i) mlxs_ldg((ptr) + (i))

// Loads of data read once (a matrix's indices and values): marked evict-first, so that
// they do not push the gathered vector out of L2.
template <typename V>
DEVICE_FN V mlxs_ldcs(const V* p) { return *p; }
DEVICE_FN float mlxs_ldcs(const float* p) { return __ldcs(p); }
DEVICE_FN int mlxs_ldcs(const int* p) { return __ldcs(p); }
DEVICE_FN long long mlxs_ldcs(const long long* p) { return __ldcs(p); }
DEVICE_FN long mlxs_ldcs(const long* p) {
  return (long)__ldcs(reinterpret_cast<const long long*>(p));
}
DEVICE_FN __half mlxs_ldcs(const __half* p) { return __ldcs(p); }
DEVICE_FN __nv_bfloat16 mlxs_ldcs(const __nv_bfloat16* p) { return __ldcs(p); }
#define LOAD_ONCE(ptr, i) mlxs_ldcs((ptr) + (i))

// Warp shuffles of accumulator types (float, 32/64-bit integers, complex64).
template <typename V>
DEVICE_FN V mlxs_shfl_down(V v, int off) { return __shfl_down_sync(0xffffffffu, v, off); }
DEVICE_FN mlx::core::cu::complex64_t mlxs_shfl_down(mlx::core::cu::complex64_t v, int off) {
  return mlx::core::cu::complex64_t(__shfl_down_sync(0xffffffffu, v.real(), off),
                                    __shfl_down_sync(0xffffffffu, v.imag(), off));
}

// Value of lane src (the whole warp calls it).
template <typename V>
DEVICE_FN V mlxs_shfl(V v, int src) { return __shfl_sync(0xffffffffu, v, src); }
DEVICE_FN mlx::core::cu::complex64_t mlxs_shfl(mlx::core::cu::complex64_t v, int src) {
  return mlx::core::cu::complex64_t(__shfl_sync(0xffffffffu, v.real(), src),
                                    __shfl_sync(0xffffffffu, v.imag(), src));
}
#define WARP_SHFL(v, src) mlxs_shfl((v), (src))
// Bit i set where lane i's pred holds; the lowest set bit's lane (the whole warp calls it).
#define WARP_BALLOT(pred) ((unsigned)__ballot_sync(0xffffffffu, (pred)))
#define FIRST_LANE(mask) (__ffs(mask) - 1)
#define POPCOUNT(mask) __popc(mask)

// Sum over lanes [lo, 2*hi) of each aligned group of 2*hi lanes, in steps
// hi, hi/2, ..., lo; the group's first lane holds the result. The whole warp calls it.
template <typename V>
DEVICE_FN V mlxs_tree_sum(V v, int hi, int lo) {
  for (int off = hi; off >= lo; off >>= 1) v = v + mlxs_shfl_down(v, off);
  return v;
}
// Sum over each aligned group of `width` lanes (result in the group's first lane).
#define GROUP_SUM(v, width) mlxs_tree_sum((v), (width) / 2, 1)
// Sum over the groups of `width` lanes in the warp, lane by lane (result in group 0).
#define CROSS_GROUP_SUM(v, width) mlxs_tree_sum((v), WARP / 2, (width))
#define WARP_SUM(v) mlxs_tree_sum((v), WARP / 2, 1)
// Number of lanes of the warp where pred holds (the whole warp calls it).
#define WARP_COUNT(pred) __popc(__ballot_sync(0xffffffffu, (pred)))

// Atomic add of accumulator types; 64-bit integers add as unsigned (same bits).
DEVICE_FN void mlxs_atomic_add(float* p, float v) { atomicAdd(p, v); }
DEVICE_FN void mlxs_atomic_add(int* p, int v) { atomicAdd(p, v); }
DEVICE_FN void mlxs_atomic_add(unsigned int* p, unsigned int v) { atomicAdd(p, v); }
DEVICE_FN void mlxs_atomic_add(int64_t* p, int64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}
DEVICE_FN void mlxs_atomic_add(uint64_t* p, uint64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}
DEVICE_FN void mlxs_atomic_add(mlx::core::cu::complex64_t* p, mlx::core::cu::complex64_t v) {
  float* f = reinterpret_cast<float*>(p);
  atomicAdd(f, v.real());
  atomicAdd(f + 1, v.imag());
}
#define ATOMIC_ADD(arr, i, v) mlxs_atomic_add(&(arr)[i], (v))
// An atomic add that returns the value before it (32- and 64-bit integers), and the
// store that goes with it into an output Metal declares atomic (here a plain store).
DEVICE_FN int mlxs_atomic_fetch_add(int* p, int v) { return atomicAdd(p, v); }
DEVICE_FN long long mlxs_atomic_fetch_add(long long* p, long long v) {
  return (long long)atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)v);
}
DEVICE_FN long mlxs_atomic_fetch_add(long* p, long v) {
  return (long)atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)v);
}
#define ATOMIC_FETCH_ADD(arr, i, v) mlxs_atomic_fetch_add(&(arr)[i], (v))
#define ATOMIC_STORE(arr, i, v) ((arr)[i] = (v))

// Waits between threadgroups (sync-free solves; CUDA only). A value another block
// wrote is read from L2 (LOAD_FRESH: L1 is not coherent); FLAG_SET fences the writes
// before it, a reader fences (FENCE) after FLAG_WAIT before it reads.
template <int S> struct mlxs_bits;
template <> struct mlxs_bits<1> { typedef unsigned char type; };
template <> struct mlxs_bits<2> { typedef unsigned short type; };
template <> struct mlxs_bits<4> { typedef unsigned int type; };
template <> struct mlxs_bits<8> { typedef unsigned long long type; };
template <typename V>
DEVICE_FN V mlxs_load_fresh(const V* p) {
  typedef typename mlxs_bits<sizeof(V)>::type U;
  const U u = __ldcg(reinterpret_cast<const U*>(p));
  V v;
  memcpy(&v, &u, sizeof(V));
  return v;
}
#define LOAD_FRESH(ptr, i) mlxs_load_fresh((ptr) + (i))
// Four consecutive values read fresh into out[0..3]: one 16-byte load for float at a
// 16-byte aligned address (a third of the solve's time with 8 right-hand sides on an
// H200), else four LOAD_FRESH.
template <typename V>
DEVICE_FN void mlxs_load_fresh4(const V* p, V* out) {
  for (int e = 0; e < 4; ++e) out[e] = mlxs_load_fresh(p + e);
}
DEVICE_FN void mlxs_load_fresh4(const float* p, float* out) {
  if ((reinterpret_cast<unsigned long long>(p) & 15ull) != 0) {
    for (int e = 0; e < 4; ++e) out[e] = mlxs_load_fresh(p + e);
    return;
  }
  const float4 v = __ldcg(reinterpret_cast<const float4*>(p));
  out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
}
#define LOAD_FRESH4(ptr, i, out) mlxs_load_fresh4((ptr) + (i), (out))
template <typename V>
DEVICE_FN void mlxs_flag_wait(const V* p) {
  while (*reinterpret_cast<const volatile V*>(p) == V(0)) {
  }
}
template <typename V>
DEVICE_FN void mlxs_flag_set(V* p) {
  __threadfence();
  *reinterpret_cast<volatile V*>(p) = V(1);
}
#define FLAG_WAIT(arr, i) mlxs_flag_wait(&(arr)[i])
#define FLAG_SET(arr, i) mlxs_flag_set(&(arr)[i])
#define FENCE() __threadfence()

// Shared (threadgroup) memory: declarations, pointers into it, and the group barrier.
#define SHARED __shared__
#define SHARED_PTR  // (Metal: threadgroup)
#define BARRIER() __syncthreads()

// @@ source
#define GID ((i64)blockIdx.x * (i64)blockDim.x + (i64)threadIdx.x)
#define GSIZE ((i64)gridDim.x * (i64)blockDim.x)
#define GID_Y ((i64)blockIdx.y * (i64)blockDim.y + (i64)threadIdx.y)
#define LID ((int)threadIdx.x)
#define LANE ((int)(threadIdx.x % WARP))
// Threadgroups: this thread's group, the number of groups in the grid.
#define GROUP_ID ((i64)blockIdx.x)
#define GROUP_COUNT ((i64)gridDim.x)
// A shared-memory array of n values of `type` as raw bytes (no constructors run: legal
// for every type, complex64 included); `name` is a pointer to its first element.
#define SHARED_ARRAY(type, name, n)                                \
  __shared__ alignas(16) unsigned char name##_raw[(n) * sizeof(type)]; \
  type* name = reinterpret_cast<type*>(name##_raw)
