// mpcl native kernels: the sparse products and reductions of
// src/graph/kernels.ts in C++, over the same typed arrays (no copies), with
// the rows split over a few POSIX threads.
//
// Every output element is computed by exactly one thread, with the same
// float32 operations in the same order as the TypeScript reference loops
// (which round like C `float` through Math.fround). Built with
// -ffp-contract=off and without -ffast-math, so no multiply-add is fused and
// no sum is reassociated: the results are bit-identical to the reference,
// whatever the thread count. Loops are vectorised across the feature
// dimension only, where the lanes are independent accumulators.
//
// The entry points validate every index they follow (row pointers, column
// indices, arg-max entries) and report a status code instead of touching
// memory out of range; src/graph/native.ts turns the codes into typed
// errors. Plain N-API (node_api.h), so the binary works on every Node
// version with N-API 8 and needs no download to build.

#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <new>

// Bump when an entry point changes its arguments: native.ts refuses a
// binary built from other sources.
#define MPCL_ABI_VERSION 3

#define MPCL_MAX_THREADS 64

// Work (multiply-adds, about 0.1 ms) that makes another thread worth its
// start (about 40 us here): smaller calls stay on the calling thread.
#define MPCL_MIN_WORK_PER_THREAD (1 << 19)

#if !defined(__GNUC__)
#error "mpcl_kernels.cc needs GCC or Clang (vector extensions, attributes)"
#endif

// On x86-64 with GCC, every kernel is compiled twice, for AVX2 (8-lane
// vectors) and for the baseline (4-lane SSE2 vectors), and the variant is
// picked at load time by the CPU. Neither target fuses multiply-adds, and
// the lanes are independent, so both give the same bits. Elsewhere (other
// CPUs, Clang) only the baseline is built: 4-lane vectors (NEON, SSE2).
#if defined(__x86_64__) && !defined(__clang__)
#define MPCL_AVX2 1
#define MPCL_AVX2_TARGET __attribute__((target("avx2")))
#include <immintrin.h>
#else
#define MPCL_AVX2 0
#endif

#define MPCL_INLINE inline __attribute__((always_inline))

// Status codes shared with native.ts.
enum Status {
  kOk = 0,
  kBadColumn = 1,  // a column index is outside [0, numSrc)
  kBadRowPtr = 2,  // row pointers decrease or leave [0, nnz]
  kBadArg = 3,     // an arg-max entry is not an entry of its row
  kBadShape = 4,   // an array is too short for the given sizes
  kNoMemory = 5,   // a work buffer could not be allocated
};

// ---------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------

// Chunks per thread: work is handed out in chunks from a shared counter,
// so a thread that the OS does not schedule (a busy machine) holds up
// little: the others take its share.
#define MPCL_CHUNKS_PER_THREAD 16
#define MPCL_MAX_CHUNKS (MPCL_MAX_THREADS * MPCL_CHUNKS_PER_THREAD)

typedef void (*RangeFn)(const void* ctx, int64_t begin, int64_t end,
                        int* status);

// One parallel call. Helper threads are detached and share the job by
// reference count, so the caller never waits for a helper that has not
// started: it waits only for chunks that a helper has claimed.
// NOTE: `ctx` lives on the caller's stack; a helper reads it only while
// it runs a claimed chunk, and the caller returns only once every claimed
// chunk is done, so no helper reads it afterwards.
struct Job {
  RangeFn fn;
  const void* ctx;
  int64_t chunks;
  int64_t bounds[MPCL_MAX_CHUNKS + 1];
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  std::atomic<int> refs{1};
  std::atomic<int> status{kOk};
  pthread_mutex_t mutex;
  pthread_cond_t finished;
};

static void Release(Job* job) {
  if (job->refs.fetch_sub(1) == 1) {
    pthread_cond_destroy(&job->finished);
    pthread_mutex_destroy(&job->mutex);
    delete job;
  }
}

// Claims and runs chunks until none is left.
static void Work(Job* job) {
  for (;;) {
    const int64_t c = job->next.fetch_add(1);
    if (c >= job->chunks) return;
    int status = kOk;
    job->fn(job->ctx, job->bounds[c], job->bounds[c + 1], &status);
    if (status != kOk) {
      int ok = kOk;
      job->status.compare_exchange_strong(ok, status);
    }
    if (job->done.fetch_add(1) + 1 == job->chunks) {
      pthread_mutex_lock(&job->mutex);
      pthread_cond_broadcast(&job->finished);
      pthread_mutex_unlock(&job->mutex);
    }
  }
}

static void* Helper(void* p) {
  Job* job = static_cast<Job*>(p);
  Work(job);
  Release(job);
  return nullptr;
}

// Runs fn over the chunks [bounds[c], bounds[c + 1]), c < chunks, on the
// caller and up to threads - 1 helpers. Every chunk runs once, on one
// thread, so the results do not depend on who runs what. Returns the
// first non-zero status a chunk reported.
static int RunChunks(int threads, int64_t chunks, const int64_t* bounds,
                     RangeFn fn, const void* ctx) {
  if (threads <= 1 || chunks <= 1) {
    int status = kOk;
    for (int64_t c = 0; c < chunks; c++) {
      fn(ctx, bounds[c], bounds[c + 1], &status);
    }
    return status;
  }
  Job* job = new (std::nothrow) Job;
  if (job == nullptr) return RunChunks(1, chunks, bounds, fn, ctx);
  job->fn = fn;
  job->ctx = ctx;
  job->chunks = chunks;
  memcpy(job->bounds, bounds, sizeof(int64_t) * (chunks + 1));
  pthread_mutex_init(&job->mutex, nullptr);
  pthread_cond_init(&job->finished, nullptr);

  // helpers that fail to start are simply not there: the caller works on
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (int t = 1; t < threads; t++) {
    job->refs.fetch_add(1);
    pthread_t id;
    if (pthread_create(&id, &attr, Helper, job) != 0) {
      job->refs.fetch_sub(1);
      break;
    }
  }
  pthread_attr_destroy(&attr);

  Work(job);
  pthread_mutex_lock(&job->mutex);
  while (job->done.load() < chunks) {
    pthread_cond_wait(&job->finished, &job->mutex);
  }
  pthread_mutex_unlock(&job->mutex);
  const int status = job->status.load();
  Release(job);
  return status;
}

// Number of threads worth starting for `work` multiply-adds.
static int ThreadsFor(int64_t requested, double work) {
  int64_t n = requested < 1 ? 1 : requested;
  if (n > MPCL_MAX_THREADS) n = MPCL_MAX_THREADS;
  double most = work / MPCL_MIN_WORK_PER_THREAD;
  if (most < n) n = most < 1 ? 1 : static_cast<int64_t>(most);
  return static_cast<int>(n);
}

// Number of chunks for `threads` threads over `items` work items.
static int64_t ChunksFor(int threads, int64_t items) {
  int64_t chunks = threads <= 1 ? 1 : threads * MPCL_CHUNKS_PER_THREAD;
  if (chunks > items) chunks = items < 1 ? 1 : items;
  return chunks;
}

// Splits rows [rowStart, rowEnd) into n ranges of about equal cost, a
// row costing one unit plus one per entry. rowPtr is not trusted here:
// the bounds only need to be increasing, the kernels check the rest.
static void SplitRows(const int32_t* rowPtr, int64_t rowStart,
                      int64_t rowEnd, int64_t n, int64_t* bounds) {
  bounds[0] = rowStart;
  bounds[n] = rowEnd;
  double first = static_cast<double>(rowPtr[rowStart]) + rowStart;
  double total = static_cast<double>(rowPtr[rowEnd]) + rowEnd - first;
  for (int64_t t = 1; t < n; t++) {
    double target = first + total * t / n;
    int64_t lo = rowStart;
    int64_t hi = rowEnd;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (static_cast<double>(rowPtr[mid]) + mid < target) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    bounds[t] = lo < bounds[t - 1] ? bounds[t - 1] : lo;
    if (bounds[t] > rowEnd) bounds[t] = rowEnd;
  }
}

// Splits [0, count) into n ranges whose inner bounds are multiples of
// `align` (n is lowered when count / align is smaller).
static int64_t SplitEven(int64_t count, int64_t n, int64_t align,
                         int64_t* bounds) {
  const int64_t units = (count + align - 1) / align;
  if (n > units) n = units < 1 ? 1 : units;
  for (int64_t t = 0; t <= n; t++) {
    int64_t b = units * t / n * align;
    bounds[t] = b > count ? count : b;
  }
  return n;
}

// Row-parallel call: rows [rowStart, rowEnd) of a CSR, `d` features.
static int RunRows(int64_t requested, const int32_t* rowPtr,
                   int64_t rowStart, int64_t rowEnd, int64_t d, RangeFn fn,
                   const void* ctx) {
  const double edges =
      static_cast<double>(rowPtr[rowEnd]) - rowPtr[rowStart];
  const int threads =
      ThreadsFor(requested, (edges + (rowEnd - rowStart)) * d);
  const int64_t chunks = ChunksFor(threads, rowEnd - rowStart);
  int64_t bounds[MPCL_MAX_CHUNKS + 1];
  SplitRows(rowPtr, rowStart, rowEnd, chunks, bounds);
  return RunChunks(threads, chunks, bounds, fn, ctx);
}

// Checks row i's pointers and column indices; true when usable.
static MPCL_INLINE bool CheckRow(const int32_t* rowPtr,
                                 const int32_t* colIdx, int64_t nnz,
                                 int64_t numSrc, int64_t i, int* status) {
  int64_t a = rowPtr[i];
  int64_t b = rowPtr[i + 1];
  if (a < 0 || b < a || b > nnz) {
    *status = kBadRowPtr;
    return false;
  }
  for (int64_t e = a; e < b; e++) {
    if (static_cast<uint32_t>(colIdx[e]) >= static_cast<uint64_t>(numSrc)) {
      *status = kBadColumn;
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------
// Vectors
// ---------------------------------------------------------------------

// L lanes of float32 / int32 (GCC and Clang vector extensions).
template <int L>
struct Lanes;
template <>
struct Lanes<4> {
  typedef float F __attribute__((vector_size(16)));
  typedef int32_t I __attribute__((vector_size(16)));
};
template <>
struct Lanes<8> {
  typedef float F __attribute__((vector_size(32)));
  typedef int32_t I __attribute__((vector_size(32)));
};

template <int L>
static MPCL_INLINE typename Lanes<L>::F Load(const float* p) {
  typename Lanes<L>::F v;
  memcpy(&v, p, sizeof v);
  return v;
}

// ---------------------------------------------------------------------
// spmm: out[i, :] = sum_e w_e x[col_e, :], entries in CSR order
// ---------------------------------------------------------------------

struct SpmmArgs {
  const int32_t* rowPtr;
  const int32_t* colIdx;
  const float* weights;  // null: every weight is 1
  const float* x;
  float* out;
  int64_t d;
  int64_t nnz;
  int64_t numSrc;
};

// How far ahead (in entries, across rows) the gathered rows are
// prefetched: a random gather waits on memory, not on arithmetic.
#ifndef MPCL_PREFETCH
#define MPCL_PREFETCH 8
#endif

// Prefetches, whole, the rows of `base` (d floats each) that entries
// [*next, until) gather, and advances *next. Indices are not checked: a
// prefetch never faults. `until` must not pass the end of colIdx.
static MPCL_INLINE void PrefetchRows(const float* base, const int32_t* colIdx,
                                     int64_t d, int64_t* next,
                                     int64_t until) {
  for (int64_t e = *next; e < until; e++) {
    const char* row = reinterpret_cast<const char*>(base + colIdx[e] * d);
    const int64_t bytes = d * static_cast<int64_t>(sizeof(float));
    for (int64_t off = 0; off < bytes; off += 64) {
      __builtin_prefetch(row + off);
    }
    __builtin_prefetch(row + bytes - 1);
  }
  if (until > *next) *next = until;
}

// The prefetch window of a row range: entries up to MPCL_PREFETCH past
// the current row, never past the range's last entry (clamped to
// [0, nnz], as rowPtr is not trusted).
struct Prefetcher {
  int64_t next;
  int64_t last;
  Prefetcher(const int32_t* rowPtr, int64_t begin, int64_t end,
             int64_t nnz) {
    next = Clamp(rowPtr[begin], nnz);
    last = Clamp(rowPtr[end], nnz);
  }
  static int64_t Clamp(int64_t v, int64_t nnz) {
    return v < 0 ? 0 : v > nnz ? nnz : v;
  }
  // Before row [a, b) is computed.
  MPCL_INLINE void Row(const float* base, const int32_t* colIdx, int64_t d,
                       int64_t a, int64_t b) {
    if (next < a) next = a;
    int64_t until = b + MPCL_PREFETCH;
    if (until > last) until = last;
    PrefetchRows(base, colIdx, d, &next, until);
  }
};

// Columns [k0, k0 + T) of one output row, accumulated in registers.
// NOTE: the sum starts from 0 and adds the messages one by one, exactly
// like the reference's `out[k] = 0; out[k] += m`, so 0 + (-0) = +0 too.
template <int T, bool Weighted>
static MPCL_INLINE void SpmmTile(const SpmmArgs& s, int64_t a, int64_t b,
                                 int64_t k0, float* __restrict out) {
  float acc[T];
  for (int k = 0; k < T; k++) acc[k] = 0.0f;
  for (int64_t e = a; e < b; e++) {
    const float* __restrict xr = s.x + s.colIdx[e] * s.d + k0;
    if (Weighted) {
      const float w = s.weights[e];
      for (int k = 0; k < T; k++) acc[k] += w * xr[k];
    } else {
      for (int k = 0; k < T; k++) acc[k] += xr[k];
    }
  }
  for (int k = 0; k < T; k++) out[k0 + k] = acc[k];
}

// SpmmTile<L V> with explicit vectors (the same operations per lane).
template <int L, int V, bool Weighted>
static MPCL_INLINE void SpmmTileV(const SpmmArgs& s, int64_t a, int64_t b,
                                  int64_t k0, float* __restrict out) {
  typedef typename Lanes<L>::F F;
  F acc[V];
  for (int j = 0; j < V; j++) acc[j] = F{};
  for (int64_t e = a; e < b; e++) {
    const float* xr = s.x + s.colIdx[e] * s.d + k0;
    for (int j = 0; j < V; j++) {
      if (Weighted) {
        acc[j] += s.weights[e] * Load<L>(xr + L * j);
      } else {
        acc[j] += Load<L>(xr + L * j);
      }
    }
  }
  memcpy(out + k0, acc, sizeof acc);
}

// One output row: tiles of 32 columns, then of L, then single columns.
template <int L, bool Weighted>
static MPCL_INLINE void SpmmRow(const SpmmArgs& s, int64_t a, int64_t b,
                                float* __restrict out) {
  int64_t k0 = 0;
  for (; k0 + 32 <= s.d; k0 += 32) {
    SpmmTileV<L, 32 / L, Weighted>(s, a, b, k0, out);
  }
  for (; k0 + L <= s.d; k0 += L) SpmmTileV<L, 1, Weighted>(s, a, b, k0, out);
  for (; k0 < s.d; k0++) SpmmTile<1, Weighted>(s, a, b, k0, out);
}

template <int L>
static MPCL_INLINE void SpmmRange(const void* ctx, int64_t begin,
                                  int64_t end, int* status) {
  const SpmmArgs& s = *static_cast<const SpmmArgs*>(ctx);
  Prefetcher ahead(s.rowPtr, begin, end, s.nnz);
  for (int64_t i = begin; i < end; i++) {
    float* out = s.out + i * s.d;
    if (!CheckRow(s.rowPtr, s.colIdx, s.nnz, s.numSrc, i, status)) {
      memset(out, 0, sizeof(float) * s.d);
      continue;
    }
    ahead.Row(s.x, s.colIdx, s.d, s.rowPtr[i], s.rowPtr[i + 1]);
    if (s.weights == nullptr) {
      SpmmRow<L, false>(s, s.rowPtr[i], s.rowPtr[i + 1], out);
    } else {
      SpmmRow<L, true>(s, s.rowPtr[i], s.rowPtr[i + 1], out);
    }
  }
}

// ---------------------------------------------------------------------
// segmentExtreme: element-wise max/min of w_e x[col_e, :] with arg-max
// ---------------------------------------------------------------------

struct ExtremeArgs {
  const int32_t* rowPtr;
  const int32_t* colIdx;
  const float* weights;
  const float* x;
  float* out;
  int32_t* arg;
  int64_t d;
  int64_t nnz;
  int64_t numSrc;
};

// NOTE: the reference compares `sign * v > sign * best`; negation is exact
// and reverses the order (NaN compares false either way), so for min it
// is `v < best`. The first entry seeds the row and wins ties.
template <int T, bool Weighted, bool Max>
static MPCL_INLINE void ExtremeTile(const ExtremeArgs& s, int64_t a,
                                    int64_t b, int64_t k0,
                                    float* __restrict out,
                                    int32_t* __restrict arg) {
  float best[T];
  int32_t at[T];
  {
    const float w = Weighted ? s.weights[a] : 1.0f;
    const float* __restrict xr = s.x + s.colIdx[a] * s.d + k0;
    for (int k = 0; k < T; k++) {
      best[k] = Weighted ? w * xr[k] : xr[k];
      at[k] = static_cast<int32_t>(a);
    }
  }
  for (int64_t e = a + 1; e < b; e++) {
    const float w = Weighted ? s.weights[e] : 1.0f;
    const float* __restrict xr = s.x + s.colIdx[e] * s.d + k0;
    const int32_t ei = static_cast<int32_t>(e);
    for (int k = 0; k < T; k++) {
      const float v = Weighted ? w * xr[k] : xr[k];
      const bool better = Max ? v > best[k] : v < best[k];
      best[k] = better ? v : best[k];
      at[k] = better ? ei : at[k];
    }
  }
  for (int k = 0; k < T; k++) {
    out[k0 + k] = best[k];
    arg[k0 + k] = at[k];
  }
}

// The same as ExtremeTile<L V>, written with explicit vectors: the
// compare-and-select with an int32 arg does not auto-vectorise.
template <int L, int V, bool Weighted, bool Max>
static MPCL_INLINE void ExtremeTileV(const ExtremeArgs& s, int64_t a,
                                     int64_t b, int64_t k0,
                                     float* __restrict out,
                                     int32_t* __restrict arg) {
  typedef typename Lanes<L>::F F;
  typedef typename Lanes<L>::I I;
  F best[V];
  I at[V];
  {
    const float* xr = s.x + s.colIdx[a] * s.d + k0;
    const I ea = I{} + static_cast<int32_t>(a);
    for (int j = 0; j < V; j++) {
      best[j] = Load<L>(xr + L * j);
      if (Weighted) best[j] = s.weights[a] * best[j];
      at[j] = ea;
    }
  }
  for (int64_t e = a + 1; e < b; e++) {
    const float* xr = s.x + s.colIdx[e] * s.d + k0;
    const I ei = I{} + static_cast<int32_t>(e);
    for (int j = 0; j < V; j++) {
      F v = Load<L>(xr + L * j);
      if (Weighted) v = s.weights[e] * v;
      // better is all ones where v wins: a bitwise select, exact
      const I better = Max ? v > best[j] : v < best[j];
      best[j] = (F)(((I)v & better) | ((I)best[j] & ~better));
      at[j] = (ei & better) | (at[j] & ~better);
    }
  }
  memcpy(out + k0, best, sizeof best);
  memcpy(arg + k0, at, sizeof at);
}

// One output row: tiles of 4 L columns (8 registers of state), then of L,
// then single columns.
template <int L, bool Weighted, bool Max>
static MPCL_INLINE void ExtremeRow(const ExtremeArgs& s, int64_t a,
                                   int64_t b, float* __restrict out,
                                   int32_t* __restrict arg) {
  int64_t k0 = 0;
  for (; k0 + 4 * L <= s.d; k0 += 4 * L) {
    ExtremeTileV<L, 4, Weighted, Max>(s, a, b, k0, out, arg);
  }
  for (; k0 + L <= s.d; k0 += L) {
    ExtremeTileV<L, 1, Weighted, Max>(s, a, b, k0, out, arg);
  }
  for (; k0 < s.d; k0++) ExtremeTile<1, Weighted, Max>(s, a, b, k0, out, arg);
}

template <int L, bool Max>
static MPCL_INLINE void ExtremeRange(const void* ctx, int64_t begin,
                                     int64_t end, int* status) {
  const ExtremeArgs& s = *static_cast<const ExtremeArgs*>(ctx);
  Prefetcher ahead(s.rowPtr, begin, end, s.nnz);
  for (int64_t i = begin; i < end; i++) {
    float* out = s.out + i * s.d;
    int32_t* arg = s.arg + i * s.d;
    bool ok = CheckRow(s.rowPtr, s.colIdx, s.nnz, s.numSrc, i, status);
    int64_t a = ok ? s.rowPtr[i] : 0;
    int64_t b = ok ? s.rowPtr[i + 1] : 0;
    if (ok) ahead.Row(s.x, s.colIdx, s.d, a, b);
    if (a == b) {
      // no entry (or an invalid row): 0 with arg -1, as the reference
      for (int64_t k = 0; k < s.d; k++) {
        out[k] = 0.0f;
        arg[k] = -1;
      }
    } else if (s.weights == nullptr) {
      ExtremeRow<L, false, Max>(s, a, b, out, arg);
    } else {
      ExtremeRow<L, true, Max>(s, a, b, out, arg);
    }
  }
}

// ---------------------------------------------------------------------
// edgeDot: dots[e] = a[i, :] . b[col_e, :], summed in feature order
// ---------------------------------------------------------------------

struct EdgeDotArgs {
  const int32_t* rowPtr;
  const int32_t* colIdx;
  const float* a;
  const float* b;
  float* dots;
  int64_t d;
  int64_t nnz;
  int64_t numSrc;
};

// G entries of one row at once: G independent serial sums, each in the
// reference's order (s = s + a_k b_k for k = 0, 1, ...), so that the
// additions of different entries overlap.
template <int G>
static MPCL_INLINE void DotGroup(const EdgeDotArgs& s,
                                 const float* __restrict ai, int64_t e) {
  const float* rows[G];
  float acc[G];
  for (int g = 0; g < G; g++) {
    rows[g] = s.b + s.colIdx[e + g] * s.d;
    acc[g] = 0.0f;
  }
  for (int64_t k = 0; k < s.d; k++) {
    const float ak = ai[k];
    for (int g = 0; g < G; g++) acc[g] = acc[g] + ak * rows[g][k];
  }
  for (int g = 0; g < G; g++) s.dots[e + g] = acc[g];
}

// L is unused: the instantiations differ by the target they are
// compiled for.
template <int L>
static MPCL_INLINE void EdgeDotRange(const void* ctx, int64_t begin,
                                     int64_t end, int* status) {
  const EdgeDotArgs& s = *static_cast<const EdgeDotArgs*>(ctx);
  Prefetcher ahead(s.rowPtr, begin, end, s.nnz);
  for (int64_t i = begin; i < end; i++) {
    if (!CheckRow(s.rowPtr, s.colIdx, s.nnz, s.numSrc, i, status)) {
      continue;
    }
    ahead.Row(s.b, s.colIdx, s.d, s.rowPtr[i], s.rowPtr[i + 1]);
    const float* __restrict ai = s.a + i * s.d;
    int64_t e = s.rowPtr[i];
    const int64_t stop = s.rowPtr[i + 1];
    for (; e + 8 <= stop; e += 8) DotGroup<8>(s, ai, e);
    for (; e + 4 <= stop; e += 4) DotGroup<4>(s, ai, e);
    for (; e < stop; e++) DotGroup<1>(s, ai, e);
  }
}

// ---------------------------------------------------------------------
// extremeBackward: route dy[i, k] to the winning entry
// ---------------------------------------------------------------------

struct BackwardArgs {
  const int32_t* rowPtr;
  const int32_t* colIdx;
  const float* weights;
  const int32_t* arg;
  const float* x;  // needed only with weights
  const float* dy;
  float* dx;
  float* dw;  // null when unweighted
  int64_t rows;
  int64_t d;
  int64_t nnz;
  int64_t numSrc;
};

// The entry p = i d + k routes to, or -1; sets status for a bad entry.
static MPCL_INLINE int64_t RoutedEntry(const BackwardArgs& s, int64_t i,
                                       int64_t p, int* status) {
  const int64_t e = s.arg[p];
  if (e < 0) return -1;
  const int64_t a = s.rowPtr[i];
  const int64_t b = s.rowPtr[i + 1];
  if (a < 0 || b > s.nnz || e < a || e >= b) {
    *status = kBadArg;
    return -1;
  }
  if (static_cast<uint64_t>(s.colIdx[e]) >= static_cast<uint64_t>(s.numSrc)) {
    *status = kBadColumn;
    return -1;
  }
  return e;
}

// dx, over all entries in the reference's order (rows, then features),
// so every dx[j, k] receives its terms in the reference's order. Called
// with the range [0, rows) only.
// NOTE: this pass stays on one thread. Splitting it by feature columns
// keeps the order but misses the cache on each dx row once per pass (2-3x
// slower); splitting it by source rows makes every thread read all of arg
// and dy and mispredict the ownership test (2x slower on 2 cores).
template <int L>
static MPCL_INLINE void BackwardDxRange(const void* ctx, int64_t begin,
                                        int64_t end, int* status) {
  const BackwardArgs& s = *static_cast<const BackwardArgs*>(ctx);
  const int64_t d = s.d;
  for (int64_t i = begin; i < end; i++) {
    for (int64_t k = 0; k < d; k++) {
      const int64_t p = i * d + k;
      const int64_t e = RoutedEntry(s, i, p, status);
      if (e < 0) continue;
      const float g = s.dy[p];
      float* dxp = s.dx + static_cast<int64_t>(s.colIdx[e]) * d + k;
      if (s.weights == nullptr) {
        *dxp += g;
      } else {
        *dxp += s.weights[e] * g;
      }
    }
  }
}

// dw for the rows [begin, end): entry e belongs to one row, whose
// features are visited in order, as in the reference.
static void BackwardDwRange(const void* ctx, int64_t begin, int64_t end,
                            int* status) {
  const BackwardArgs& s = *static_cast<const BackwardArgs*>(ctx);
  const int64_t d = s.d;
  for (int64_t i = begin; i < end; i++) {
    for (int64_t k = 0; k < d; k++) {
      const int64_t p = i * d + k;
      const int64_t e = RoutedEntry(s, i, p, status);
      if (e < 0) continue;
      const float xv = s.x[static_cast<int64_t>(s.colIdx[e]) * d + k];
      s.dw[e] += xv * s.dy[p];
    }
  }
}

// ---------------------------------------------------------------------
// gemm: C (+)= op(A) op(B), dense row-major float32
// ---------------------------------------------------------------------
//
// The layout follows the usual register-blocked design (Goto and van de
// Geijn, "Anatomy of high-performance matrix multiplication", 2008): op(B)
// is packed whole, once, into slivers of NR columns (k rows each, padded
// with zeros); op(A) is read in blocks of MC rows and KC columns, packed
// into slivers of MR rows when it is transposed or reused by many slivers
// of B; a micro-kernel keeps an MR x NR tile of C in registers.
//
// Every element of C is one chain c = c + a_p b_p over p = 0 .. k - 1 in
// order, starting from 0 (or from C when accumulating), with C stored as
// float between blocks of KC: the blocking and the threads (which own
// disjoint rows of C) change nothing in the result. The baseline variant
// rounds the product and the sum separately, exactly like the TypeScript
// reference; the AVX2 variant fuses them (FMA), one rounding per step.

#define MPCL_GEMM_KC 256
// NOTE: large row blocks (504 x 256 floats, 0.5 MB: in L2) matter most for
// a transposed A, whose rows are then read whole, in order
#define MPCL_GEMM_MC 504  // a multiple of every variant's MR
#define MPCL_GEMM_MAX_MR 8
#define MPCL_GEMM_MAX_NR 16

// Multiply-adds worth a thread in a dense product (about 0.2 ms).
#define MPCL_GEMM_MIN_WORK_PER_THREAD (1 << 22)

// Row chunks per thread (taken from the shared counter), when each chunk
// still has MPCL_GEMM_MIN_CHUNK_ROWS rows or more.
#define MPCL_GEMM_CHUNKS_PER_THREAD 4
#define MPCL_GEMM_MIN_CHUNK_ROWS 192

// Packed slivers of op(A) are reused by this many slivers of B or more.
#define MPCL_GEMM_PACK_A_SLIVERS 3

// One MR x NR tile: c (row stride ldc) = (load ? c : 0) + sum_p a_p b_p,
// with a_p row r at a[r * ai + p * ap] and b_p at b[p * NR .. + NR).
typedef void (*MicroFn)(int64_t kc, const float* a, int64_t ai, int64_t ap,
                        const float* b, float* c, int64_t ldc, bool load);

struct GemmArgs {
  const float* a;  // op(A)(i, p) = a[i * ars + p * acs]
  int64_t ars;
  int64_t acs;
  const float* b;  // op(B)(p, j) = b[p * brs + j * bcs]
  int64_t brs;
  int64_t bcs;
  float* c;  // m x n, row-major
  int64_t m;
  int64_t n;
  int64_t k;
  bool accumulate;
  float* packedB;  // slivers x k x NR
  int64_t slivers;
  bool packA;
};

// Packs the slivers [begin, end) of op(B), zero-padding the last one.
template <int NR>
static MPCL_INLINE void PackBRange(const void* ctx, int64_t begin,
                                   int64_t end, int* status) {
  (void)status;
  const GemmArgs& g = *static_cast<const GemmArgs*>(ctx);
  for (int64_t s = begin; s < end; s++) {
    float* dst = g.packedB + s * g.k * NR;
    const int64_t j0 = s * NR;
    const int64_t w = g.n - j0 < NR ? g.n - j0 : NR;
    if (w < NR) memset(dst, 0, sizeof(float) * g.k * NR);
    if (g.bcs == 1) {
      for (int64_t p = 0; p < g.k; p++) {
        memcpy(dst + p * NR, g.b + p * g.brs + j0, sizeof(float) * w);
      }
    } else {
      // transposed B: each column of op(B) is a contiguous row of b
      for (int64_t jj = 0; jj < w; jj++) {
        const float* src = g.b + (j0 + jj) * g.bcs;
        for (int64_t p = 0; p < g.k; p++) dst[p * NR + jj] = src[p * g.brs];
      }
    }
  }
}

// Packs rows [i0, i0 + mc) x columns [p0, p0 + kc) of op(A) into slivers
// of MR rows (sliver s at dst + s * MR * kc, element (r, p) at p * MR + r),
// zero-padding the last sliver.
template <int MR>
static MPCL_INLINE void PackA(const GemmArgs& g, int64_t i0, int64_t mc,
                              int64_t p0, int64_t kc, float* dst) {
  const int64_t slivers = (mc + MR - 1) / MR;
  if (mc % MR != 0) {
    memset(dst + (slivers - 1) * MR * kc, 0, sizeof(float) * MR * kc);
  }
  if (g.ars == 1) {
    // transposed A: row p of a holds the mc values of column p of op(A)
    // contiguously; read each once, in order
    for (int64_t p = 0; p < kc; p++) {
      const float* col = g.a + (p0 + p) * g.acs + i0;
      for (int64_t r = 0; r < mc; r++) {
        dst[(r / MR) * MR * kc + p * MR + r % MR] = col[r];
      }
    }
    return;
  }
  for (int64_t s = 0; s < slivers; s++) {
    float* out = dst + s * MR * kc;
    const int64_t rows = mc - s * MR < MR ? mc - s * MR : MR;
    const float* src = g.a + (i0 + s * MR) * g.ars + p0 * g.acs;
    for (int64_t r = 0; r < rows; r++) {
      const float* row = src + r * g.ars;
      for (int64_t p = 0; p < kc; p++) out[p * MR + r] = row[p * g.acs];
    }
  }
}

// Rows [begin, end) of C: blocks of KC columns of op(A) in order, then
// blocks of MC rows, then every sliver of B, then slivers of MR rows.
template <int MR, int NR, MicroFn Micro>
static MPCL_INLINE void GemmRange(const void* ctx, int64_t begin,
                                  int64_t end, int* status) {
  const GemmArgs& g = *static_cast<const GemmArgs*>(ctx);
  float* block = nullptr;
  if (g.packA) {
    block = static_cast<float*>(aligned_alloc(
        64, sizeof(float) * MPCL_GEMM_MC * MPCL_GEMM_KC));
    if (block == nullptr) {
      *status = kNoMemory;
      return;
    }
  }
  alignas(64) float edge[MPCL_GEMM_MAX_MR * MPCL_GEMM_KC];
  alignas(64) float tile[MPCL_GEMM_MAX_MR * MPCL_GEMM_MAX_NR];

  for (int64_t p0 = 0; p0 < g.k; p0 += MPCL_GEMM_KC) {
    const int64_t kc = g.k - p0 < MPCL_GEMM_KC ? g.k - p0 : MPCL_GEMM_KC;
    const bool load = g.accumulate || p0 > 0;
    for (int64_t i0 = begin; i0 < end; i0 += MPCL_GEMM_MC) {
      const int64_t mc = end - i0 < MPCL_GEMM_MC ? end - i0 : MPCL_GEMM_MC;

      // the block of op(A), packed, or read in place (its short last
      // sliver packed alone, zero-padded)
      const int64_t full = mc / MR * MR;
      if (g.packA) {
        PackA<MR>(g, i0, mc, p0, kc, block);
      } else if (full < mc) {
        PackA<MR>(g, i0 + full, mc - full, p0, kc, edge);
      }

      for (int64_t s = 0; s < g.slivers; s++) {
        const float* bp = g.packedB + (s * g.k + p0) * NR;
        const int64_t j0 = s * NR;
        const int64_t cols = g.n - j0 < NR ? g.n - j0 : NR;
        for (int64_t r0 = 0; r0 < mc; r0 += MR) {
          const int64_t rows = mc - r0 < MR ? mc - r0 : MR;
          const float* ap;
          int64_t ai, astep;
          if (g.packA) {
            ap = block + r0 * kc;
            ai = 1;
            astep = MR;
          } else if (rows < MR) {
            ap = edge;
            ai = 1;
            astep = MR;
          } else {
            ap = g.a + (i0 + r0) * g.ars + p0 * g.acs;
            ai = g.ars;
            astep = g.acs;
          }
          float* cp = g.c + (i0 + r0) * g.n + j0;
          if (rows == MR && cols == NR) {
            Micro(kc, ap, ai, astep, bp, cp, g.n, load);
            continue;
          }

          // a partial tile goes through a full one
          if (load) {
            for (int64_t r = 0; r < rows; r++) {
              memcpy(tile + r * NR, cp + r * g.n, sizeof(float) * cols);
            }
          }
          Micro(kc, ap, ai, astep, bp, tile, NR, load);
          for (int64_t r = 0; r < rows; r++) {
            memcpy(cp + r * g.n, tile + r * NR, sizeof(float) * cols);
          }
        }
      }
    }
  }
  free(block);
}

// The baseline micro-kernel: 6 x 8 tile in 4-lane vectors, product and
// sum rounded separately (no FMA: built with -ffp-contract=off).
template <int L>
static MPCL_INLINE void MicroVec(int64_t kc, const float* a, int64_t ai,
                                 int64_t ap, const float* b, float* c,
                                 int64_t ldc, bool load) {
  typedef typename Lanes<L>::F F;
  constexpr int MR = 6;
  constexpr int V = 2;
  constexpr int NR = L * V;
  F acc[MR][V];
  for (int r = 0; r < MR; r++) {
    for (int v = 0; v < V; v++) {
      acc[r][v] = load ? Load<L>(c + r * ldc + v * L) : F{};
    }
  }
  const float* rows[MR];
  for (int r = 0; r < MR; r++) rows[r] = a + r * ai;
  int64_t o = 0;
  for (int64_t p = 0; p < kc; p++, o += ap) {
    F bv[V];
    for (int v = 0; v < V; v++) bv[v] = Load<L>(b + p * NR + v * L);
    for (int r = 0; r < MR; r++) {
      const float x = rows[r][o];
      for (int v = 0; v < V; v++) acc[r][v] += x * bv[v];
    }
  }
  for (int r = 0; r < MR; r++) {
    memcpy(c + r * ldc, acc[r], sizeof acc[r]);
  }
}

static void MicroBase(int64_t kc, const float* a, int64_t ai, int64_t ap,
                      const float* b, float* c, int64_t ldc, bool load) {
  MicroVec<4>(kc, a, ai, ap, b, c, ldc, load);
}

#if MPCL_AVX2
#define MPCL_FMA_TARGET __attribute__((target("avx2,fma")))

// The AVX2 micro-kernel: 6 x 16 tile, 12 accumulators, fused multiply-add.
MPCL_FMA_TARGET static void MicroAvx2(int64_t kc, const float* a,
                                      int64_t ai, int64_t ap,
                                      const float* b, float* c, int64_t ldc,
                                      bool load) {
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  if (load) {
    c00 = _mm256_loadu_ps(c);
    c01 = _mm256_loadu_ps(c + 8);
    c10 = _mm256_loadu_ps(c + ldc);
    c11 = _mm256_loadu_ps(c + ldc + 8);
    c20 = _mm256_loadu_ps(c + 2 * ldc);
    c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
    c30 = _mm256_loadu_ps(c + 3 * ldc);
    c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
    c40 = _mm256_loadu_ps(c + 4 * ldc);
    c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
    c50 = _mm256_loadu_ps(c + 5 * ldc);
    c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = _mm256_setzero_ps();
    c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
  }
  const float* a0 = a;
  const float* a1 = a + ai;
  const float* a2 = a + 2 * ai;
  const float* a3 = a + 3 * ai;
  const float* a4 = a + 4 * ai;
  const float* a5 = a + 5 * ai;
  for (int64_t p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    b += 16;
    __m256 x = _mm256_broadcast_ss(a0);
    c00 = _mm256_fmadd_ps(x, b0, c00);
    c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a1);
    c10 = _mm256_fmadd_ps(x, b0, c10);
    c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a2);
    c20 = _mm256_fmadd_ps(x, b0, c20);
    c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a3);
    c30 = _mm256_fmadd_ps(x, b0, c30);
    c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a4);
    c40 = _mm256_fmadd_ps(x, b0, c40);
    c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a5);
    c50 = _mm256_fmadd_ps(x, b0, c50);
    c51 = _mm256_fmadd_ps(x, b1, c51);
    a0 += ap;
    a1 += ap;
    a2 += ap;
    a3 += ap;
    a4 += ap;
    a5 += ap;
  }
  _mm256_storeu_ps(c, c00);
  _mm256_storeu_ps(c + 8, c01);
  _mm256_storeu_ps(c + ldc, c10);
  _mm256_storeu_ps(c + ldc + 8, c11);
  _mm256_storeu_ps(c + 2 * ldc, c20);
  _mm256_storeu_ps(c + 2 * ldc + 8, c21);
  _mm256_storeu_ps(c + 3 * ldc, c30);
  _mm256_storeu_ps(c + 3 * ldc + 8, c31);
  _mm256_storeu_ps(c + 4 * ldc, c40);
  _mm256_storeu_ps(c + 4 * ldc + 8, c41);
  _mm256_storeu_ps(c + 5 * ldc, c50);
  _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}
#endif

// ---------------------------------------------------------------------
// dropout: out[i] = keep(i) ? x[i] * scale : 0, from a counter-based hash
// ---------------------------------------------------------------------

// A 32-bit integer hash with good avalanche ("lowbias32", C. Wellons).
static MPCL_INLINE uint32_t Mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

struct DropoutArgs {
  const float* x;  // null: out holds the mask itself (x = 1)
  float* out;
  uint32_t seed;
  uint32_t key;  // Mix32(seed ^ 0x85ebca6b)
  uint32_t threshold;
  float scale;
};

// The random bits of entry i; entry i is kept when they are at least
// the threshold. The same function is written in TypeScript (linear.ts).
static MPCL_INLINE uint32_t DropoutBits(uint32_t i, uint32_t seed,
                                        uint32_t key) {
  return Mix32(Mix32(i * 0x9E3779B9U + seed) ^ key);
}

static MPCL_INLINE void DropoutRange(const void* ctx, int64_t begin,
                                     int64_t end, int* status) {
  (void)status;
  const DropoutArgs& s = *static_cast<const DropoutArgs*>(ctx);

  // NOTE: locals, so that stores to `out` cannot alias the arguments and
  // the loops vectorise (8 lanes of integer hashing with AVX2)
  const uint32_t seed = s.seed;
  const uint32_t key = s.key;
  const uint32_t threshold = s.threshold;
  const float scale = s.scale;
  float* out = s.out;
  const float* x = s.x;
  if (x == nullptr) {
    for (int64_t i = begin; i < end; i++) {
      const uint32_t h = DropoutBits(static_cast<uint32_t>(i), seed, key);
      out[i] = h >= threshold ? scale : 0.0f;
    }
  } else {
    // the dropped entries are cleared with an integer mask (+0 even for
    // NaN or infinite x), a select that the loop vectorises
    for (int64_t i = begin; i < end; i++) {
      const uint32_t h = DropoutBits(static_cast<uint32_t>(i), seed, key);
      const float v = x[i] * scale;
      uint32_t bits;
      memcpy(&bits, &v, sizeof bits);
      bits &= 0U - static_cast<uint32_t>(h >= threshold);
      memcpy(out + i, &bits, sizeof bits);
    }
  }
}

// ---------------------------------------------------------------------
// Variants: one set of range functions per instruction set
// ---------------------------------------------------------------------

struct KernelSet {
  const char* name;
  RangeFn spmm;
  RangeFn max;
  RangeFn min;
  RangeFn edgeDot;
  RangeFn backwardDx;
  RangeFn gemm;
  RangeFn packB;
  RangeFn dropout;
  int mr;  // rows of the gemm micro-kernel's tile
  int nr;  // columns of the gemm micro-kernel's tile
};

// The templates above are always inlined, so each wrapper compiles the
// whole kernel for its own target.
#define MPCL_WRAP(attr, name, call)                                   \
  attr static void name(const void* c, int64_t b, int64_t e, int* s) { \
    call(c, b, e, s);                                                 \
  }

MPCL_WRAP(, SpmmBase, SpmmRange<4>)
MPCL_WRAP(, MaxBase, (ExtremeRange<4, true>))
MPCL_WRAP(, MinBase, (ExtremeRange<4, false>))
MPCL_WRAP(, EdgeDotBase, EdgeDotRange<4>)
MPCL_WRAP(, BackwardDxBase, BackwardDxRange<4>)
MPCL_WRAP(, GemmBase, (GemmRange<6, 8, MicroBase>))
MPCL_WRAP(, PackBBase, PackBRange<8>)
MPCL_WRAP(, DropoutBase, DropoutRange)
static const KernelSet kBaseline = {
    "baseline", SpmmBase, MaxBase,     MinBase,     EdgeDotBase,
    BackwardDxBase, GemmBase, PackBBase, DropoutBase, 6, 8};

#if MPCL_AVX2
MPCL_WRAP(MPCL_AVX2_TARGET, SpmmAvx2, SpmmRange<8>)
MPCL_WRAP(MPCL_AVX2_TARGET, MaxAvx2, (ExtremeRange<8, true>))
MPCL_WRAP(MPCL_AVX2_TARGET, MinAvx2, (ExtremeRange<8, false>))
MPCL_WRAP(MPCL_AVX2_TARGET, EdgeDotAvx2, EdgeDotRange<8>)
MPCL_WRAP(MPCL_AVX2_TARGET, BackwardDxAvx2, BackwardDxRange<8>)
MPCL_WRAP(MPCL_FMA_TARGET, GemmAvx2, (GemmRange<6, 16, MicroAvx2>))
MPCL_WRAP(MPCL_AVX2_TARGET, PackBAvx2, PackBRange<16>)
MPCL_WRAP(MPCL_AVX2_TARGET, DropoutAvx2, DropoutRange)
static const KernelSet kAvx2 = {
    "avx2",         SpmmAvx2, MaxAvx2,   MinAvx2,     EdgeDotAvx2,
    BackwardDxAvx2, GemmAvx2, PackBAvx2, DropoutAvx2, 6, 16};
#endif

// The best set this CPU runs, chosen at load time.
static bool Avx2Supported() {
#if MPCL_AVX2
  __builtin_cpu_init();
  // the dense products of this set fuse multiply-adds: FMA too
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

static std::atomic<const KernelSet*> gKernels{&kBaseline};

// ---------------------------------------------------------------------
// N-API glue
// ---------------------------------------------------------------------

// A typed array's data and length; `data` null for JS null/undefined
// when `nullable`. Returns false (with a JS TypeError pending) otherwise.
struct View {
  void* data;
  int64_t length;
};

static bool GetView(napi_env env, napi_value v, napi_typedarray_type want,
                    bool nullable, const char* name, View* out) {
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  if (nullable && (vt == napi_null || vt == napi_undefined)) {
    out->data = nullptr;
    out->length = 0;
    return true;
  }
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (is) {
    napi_get_typedarray_info(env, v, &type, &length, &data, nullptr,
                             nullptr);
  }
  if (!is || type != want) {
    char msg[160];
    snprintf(msg, sizeof msg, "mpcl_kernels: %s must be %s", name,
             want == napi_int32_array ? "an Int32Array" : "a Float32Array");
    napi_throw_type_error(env, nullptr, msg);
    return false;
  }
  out->data = data;
  out->length = static_cast<int64_t>(length);
  return true;
}

static bool GetInt(napi_env env, napi_value v, const char* name,
                   int64_t* out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "mpcl_kernels: %s must be a number", name);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  }
  return true;
}

static napi_value Int(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

#define ARGS(n)                                                    \
  size_t argc = n;                                                 \
  napi_value argv[n];                                              \
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);      \
  if (argc < n) {                                                  \
    napi_throw_type_error(env, nullptr, "mpcl_kernels: missing arguments"); \
    return nullptr;                                                \
  }

#define VIEW(i, type, nullable, name, out) \
  if (!GetView(env, argv[i], type, nullable, name, &out)) return nullptr;

#define INT(i, name, out) \
  if (!GetInt(env, argv[i], name, &out)) return nullptr;

// spmm(rowPtr, colIdx, weights | null, x, d, out, rowStart, rowEnd,
//      threads) -> status
static napi_value Spmm(napi_env env, napi_callback_info info) {
  ARGS(9);
  View rowPtr, colIdx, weights, x, out;
  int64_t d, rowStart, rowEnd, threads;
  VIEW(0, napi_int32_array, false, "rowPtr", rowPtr);
  VIEW(1, napi_int32_array, false, "colIdx", colIdx);
  VIEW(2, napi_float32_array, true, "weights", weights);
  VIEW(3, napi_float32_array, false, "x", x);
  INT(4, "d", d);
  VIEW(5, napi_float32_array, false, "out", out);
  INT(6, "rowStart", rowStart);
  INT(7, "rowEnd", rowEnd);
  INT(8, "threads", threads);

  const int64_t rows = rowPtr.length - 1;
  if (d < 0 || rows < 0 || rowStart < 0 || rowEnd < rowStart ||
      rowEnd > rows || out.length < rowEnd * d ||
      (weights.data != nullptr && weights.length < colIdx.length)) {
    return Int(env, kBadShape);
  }
  if (d == 0 || rowStart == rowEnd) return Int(env, kOk);
  SpmmArgs s{static_cast<const int32_t*>(rowPtr.data),
             static_cast<const int32_t*>(colIdx.data),
             static_cast<const float*>(weights.data),
             static_cast<const float*>(x.data),
             static_cast<float*>(out.data),
             d,
             colIdx.length,
             x.length / d};
  return Int(env, RunRows(threads, s.rowPtr, rowStart, rowEnd, d,
                          gKernels.load()->spmm, &s));
}

// segmentExtreme(rowPtr, colIdx, weights | null, x, d, isMin, out, arg,
//                threads) -> status
static napi_value SegmentExtreme(napi_env env, napi_callback_info info) {
  ARGS(9);
  View rowPtr, colIdx, weights, x, out, arg;
  int64_t d, isMin, threads;
  VIEW(0, napi_int32_array, false, "rowPtr", rowPtr);
  VIEW(1, napi_int32_array, false, "colIdx", colIdx);
  VIEW(2, napi_float32_array, true, "weights", weights);
  VIEW(3, napi_float32_array, false, "x", x);
  INT(4, "d", d);
  INT(5, "isMin", isMin);
  VIEW(6, napi_float32_array, false, "out", out);
  VIEW(7, napi_int32_array, false, "arg", arg);
  INT(8, "threads", threads);

  const int64_t rows = rowPtr.length - 1;
  if (d < 0 || rows < 0 || out.length < rows * d || arg.length < rows * d ||
      (weights.data != nullptr && weights.length < colIdx.length)) {
    return Int(env, kBadShape);
  }
  if (d == 0 || rows == 0) return Int(env, kOk);
  ExtremeArgs s{static_cast<const int32_t*>(rowPtr.data),
                static_cast<const int32_t*>(colIdx.data),
                static_cast<const float*>(weights.data),
                static_cast<const float*>(x.data),
                static_cast<float*>(out.data),
                static_cast<int32_t*>(arg.data),
                d,
                colIdx.length,
                x.length / d};
  RangeFn fn = isMin ? gKernels.load()->min : gKernels.load()->max;
  return Int(env, RunRows(threads, s.rowPtr, 0, rows, d, fn, &s));
}

// edgeDot(rowPtr, colIdx, a, b, d, dots, threads) -> status
static napi_value EdgeDot(napi_env env, napi_callback_info info) {
  ARGS(7);
  View rowPtr, colIdx, a, b, dots;
  int64_t d, threads;
  VIEW(0, napi_int32_array, false, "rowPtr", rowPtr);
  VIEW(1, napi_int32_array, false, "colIdx", colIdx);
  VIEW(2, napi_float32_array, false, "a", a);
  VIEW(3, napi_float32_array, false, "b", b);
  INT(4, "d", d);
  VIEW(5, napi_float32_array, false, "dots", dots);
  INT(6, "threads", threads);

  const int64_t rows = rowPtr.length - 1;
  if (d < 0 || rows < 0 || a.length < rows * d ||
      dots.length < colIdx.length) {
    return Int(env, kBadShape);
  }
  if (rows == 0) return Int(env, kOk);
  if (d == 0) {
    // every dot product is the empty sum
    memset(dots.data, 0, sizeof(float) * colIdx.length);
    return Int(env, kOk);
  }
  EdgeDotArgs s{static_cast<const int32_t*>(rowPtr.data),
                static_cast<const int32_t*>(colIdx.data),
                static_cast<const float*>(a.data),
                static_cast<const float*>(b.data),
                static_cast<float*>(dots.data),
                d,
                colIdx.length,
                b.length / d};
  return Int(env,
             RunRows(threads, s.rowPtr, 0, rows, d, gKernels.load()->edgeDot, &s));
}

// extremeBackward(rowPtr, colIdx, weights | null, arg, x | null, dy, d,
//                 dx, dw | null, threads) -> status
// dx and dw must be zero-filled by the caller.
static napi_value ExtremeBackward(napi_env env, napi_callback_info info) {
  ARGS(10);
  View rowPtr, colIdx, weights, arg, x, dy, dx, dw;
  int64_t d, threads;
  VIEW(0, napi_int32_array, false, "rowPtr", rowPtr);
  VIEW(1, napi_int32_array, false, "colIdx", colIdx);
  VIEW(2, napi_float32_array, true, "weights", weights);
  VIEW(3, napi_int32_array, false, "arg", arg);
  VIEW(4, napi_float32_array, true, "x", x);
  VIEW(5, napi_float32_array, false, "dy", dy);
  INT(6, "d", d);
  VIEW(7, napi_float32_array, false, "dx", dx);
  VIEW(8, napi_float32_array, true, "dw", dw);
  INT(9, "threads", threads);

  const int64_t rows = rowPtr.length - 1;
  const bool weighted = weights.data != nullptr;
  if (d < 0 || rows < 0 || arg.length != rows * d ||
      dy.length < rows * d ||
      (weighted && (weights.length < colIdx.length ||
                    dw.data == nullptr || dw.length < colIdx.length ||
                    x.data == nullptr || x.length < dx.length))) {
    return Int(env, kBadShape);
  }
  if (d == 0 || rows == 0) return Int(env, kOk);
  BackwardArgs s{static_cast<const int32_t*>(rowPtr.data),
                 static_cast<const int32_t*>(colIdx.data),
                 static_cast<const float*>(weights.data),
                 static_cast<const int32_t*>(arg.data),
                 static_cast<const float*>(x.data),
                 static_cast<const float*>(dy.data),
                 static_cast<float*>(dx.data),
                 weighted ? static_cast<float*>(dw.data) : nullptr,
                 rows,
                 d,
                 colIdx.length,
                 dx.length / d};

  // first dx, on this thread (see BackwardDxRange)
  int status = kOk;
  gKernels.load()->backwardDx(&s, 0, rows, &status);

  // then dw, split by rows (each entry belongs to one row)
  if (weighted) {
    int64_t bounds[MPCL_MAX_CHUNKS + 1];
    const int n = ThreadsFor(threads, static_cast<double>(rows) * d);
    const int64_t chunks = SplitEven(rows, ChunksFor(n, rows), 1, bounds);
    int second = RunChunks(n, chunks, bounds, BackwardDwRange, &s);
    if (status == kOk) status = second;
  }
  return Int(env, status);
}

// gemm(a, b, c, m, n, k, transA, transB, accumulate, threads) -> status
// C[m x n] (+)= op(A) op(B), op(A) m x k (a holds m x k, or k x m when
// transA), op(B) k x n (b holds k x n, or n x k when transB); row-major.
static napi_value Gemm(napi_env env, napi_callback_info info) {
  ARGS(10);
  View a, b, c;
  int64_t m, n, k, transA, transB, accumulate, threads;
  VIEW(0, napi_float32_array, false, "a", a);
  VIEW(1, napi_float32_array, false, "b", b);
  VIEW(2, napi_float32_array, false, "c", c);
  INT(3, "m", m);
  INT(4, "n", n);
  INT(5, "k", k);
  INT(6, "transA", transA);
  INT(7, "transB", transB);
  INT(8, "accumulate", accumulate);
  INT(9, "threads", threads);

  if (m < 0 || n < 0 || k < 0 || a.length < m * k || b.length < k * n ||
      c.length < m * n) {
    return Int(env, kBadShape);
  }
  if (m == 0 || n == 0) return Int(env, kOk);
  if (k == 0) {
    // the empty sum
    if (!accumulate) memset(c.data, 0, sizeof(float) * m * n);
    return Int(env, kOk);
  }
  const KernelSet* set = gKernels.load();
  GemmArgs g;
  g.a = static_cast<const float*>(a.data);
  g.ars = transA ? 1 : k;
  g.acs = transA ? m : 1;
  g.b = static_cast<const float*>(b.data);
  g.brs = transB ? 1 : n;
  g.bcs = transB ? k : 1;
  g.c = static_cast<float*>(c.data);
  g.m = m;
  g.n = n;
  g.k = k;
  g.accumulate = accumulate != 0;
  g.slivers = (n + set->nr - 1) / set->nr;
  g.packA = transA || g.slivers >= MPCL_GEMM_PACK_A_SLIVERS;
  const size_t packed = sizeof(float) * g.slivers * k * set->nr;
  g.packedB = static_cast<float*>(aligned_alloc(64, (packed + 63) / 64 * 64));
  if (g.packedB == nullptr) return Int(env, kNoMemory);

  // first op(B), packed by slivers, then rows of C
  const double work = static_cast<double>(m) * n * k;
  int n1 = ThreadsFor(threads, static_cast<double>(n) * k / 4);
  int64_t bounds[MPCL_MAX_CHUNKS + 1];
  int64_t chunks = SplitEven(g.slivers, ChunksFor(n1, g.slivers), 1, bounds);
  int status = RunChunks(n1, chunks, bounds, set->packB, &g);
  if (status == kOk) {
    const int t = ThreadsFor(
        threads, work * MPCL_MIN_WORK_PER_THREAD / MPCL_GEMM_MIN_WORK_PER_THREAD);
    int64_t want = m / MPCL_GEMM_MIN_CHUNK_ROWS;
    if (want > t * MPCL_GEMM_CHUNKS_PER_THREAD) {
      want = t * MPCL_GEMM_CHUNKS_PER_THREAD;
    }
    if (want < t) want = t;
    chunks = SplitEven(m, want, set->mr, bounds);
    status = RunChunks(t, chunks, bounds, set->gemm, &g);
  }
  free(g.packedB);
  return Int(env, status);
}

// dropout(x | null, out, seed, threshold, scale, threads) -> status
// out[i] = x[i] * scale when DropoutBits(i) >= threshold, else 0 (x null:
// x[i] = 1, the mask itself); x may be out.
static napi_value Dropout(napi_env env, napi_callback_info info) {
  ARGS(6);
  View x, out;
  int64_t seed, threshold, threads;
  double scale;
  VIEW(0, napi_float32_array, true, "x", x);
  VIEW(1, napi_float32_array, false, "out", out);
  INT(2, "seed", seed);
  INT(3, "threshold", threshold);
  if (napi_get_value_double(env, argv[4], &scale) != napi_ok) {
    napi_throw_type_error(env, nullptr, "mpcl_kernels: scale must be a number");
    return nullptr;
  }
  INT(5, "threads", threads);
  if ((x.data != nullptr && x.length < out.length) || seed < 0 ||
      seed > 0xFFFFFFFFLL || threshold < 0 || threshold > 0xFFFFFFFFLL) {
    return Int(env, kBadShape);
  }
  const uint32_t s = static_cast<uint32_t>(seed);
  DropoutArgs d{static_cast<const float*>(x.data),
                static_cast<float*>(out.data),
                s,
                Mix32(s ^ 0x85ebca6bU),
                static_cast<uint32_t>(threshold),
                static_cast<float>(scale)};
  const int t = ThreadsFor(threads, static_cast<double>(out.length) * 2);
  int64_t bounds[MPCL_MAX_CHUNKS + 1];
  const int64_t chunks =
      SplitEven(out.length, ChunksFor(t, out.length), 1024, bounds);
  return Int(env, RunChunks(t, chunks, bounds, gKernels.load()->dropout, &d));
}

// simd() -> the name of the kernel set in use ("avx2", "baseline").
static napi_value Simd(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_string_utf8(env, gKernels.load()->name, NAPI_AUTO_LENGTH, &r);
  return r;
}

// setSimd(name) -> true when this CPU runs that kernel set, which is then
// used by later calls (for tests: every set gives the same bits).
static napi_value SetSimd(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[32] = {0};
  size_t length = 0;
  napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length);
  const KernelSet* chosen = nullptr;
  if (strcmp(name, kBaseline.name) == 0) chosen = &kBaseline;
#if MPCL_AVX2
  if (strcmp(name, kAvx2.name) == 0 && Avx2Supported()) chosen = &kAvx2;
#endif
  if (chosen != nullptr) gKernels.store(chosen);
  napi_value r;
  napi_get_boolean(env, chosen != nullptr, &r);
  return r;
}

static napi_value Init(napi_env env, napi_value exports) {
  struct Fn {
    const char* name;
    napi_callback cb;
  };
  const Fn fns[] = {{"spmm", Spmm},
                    {"segmentExtreme", SegmentExtreme},
                    {"edgeDot", EdgeDot},
                    {"extremeBackward", ExtremeBackward},
                    {"gemm", Gemm},
                    {"dropout", Dropout},
                    {"simd", Simd},
                    {"setSimd", SetSimd}};
  for (const Fn& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  napi_set_named_property(env, exports, "abiVersion",
                          Int(env, MPCL_ABI_VERSION));
  napi_set_named_property(env, exports, "maxThreads",
                          Int(env, MPCL_MAX_THREADS));

  // the kernel sets this CPU runs, the best one first (and in use)
  napi_value levels;
  napi_create_array(env, &levels);
  uint32_t count = 0;
  const KernelSet* sets[] = {
#if MPCL_AVX2
      Avx2Supported() ? &kAvx2 : nullptr,
#endif
      &kBaseline};
  for (const KernelSet* set : sets) {
    if (set == nullptr) continue;
    napi_value v;
    napi_create_string_utf8(env, set->name, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, levels, count++, v);
    if (count == 1) gKernels.store(set);
  }
  napi_set_named_property(env, exports, "simdLevels", levels);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
