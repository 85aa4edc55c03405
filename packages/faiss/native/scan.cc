// scanRows: exact k-NN of one query over a subset of rows of a caller-owned Float32Array.
//
// The vectors are read in place through the typed array's data pointer: no copy, no index.
// napi_get_typedarray_info moves a small on-heap typed array's bytes off the V8 heap before
// handing out the pointer, and off-heap backing stores never move, so the pointers stay valid
// for the whole (synchronous) call even when allocating the result arrays triggers a GC.
//
// Cost: O(rows · d) distance work in the addon's own SIMD kernels (kernels.h: AVX2+FMA when the
// CPU has it, else SSE; chosen at load time) plus O(rows · log k) for a bounded heap (faiss's
// heap templates with a comparator that breaks ties by row number, so results do not depend on
// visiting order). Rows are scored kBatch at a time (one kernel call per batch); scattered rows
// are prefetched a batch ahead of the scoring (see scanWith).
//
// Why not faiss's fvec_L2sqr / fvec_inner_product: Debian builds libfaiss.a for baseline x86-64
// (SSE2, no SSE3), where faiss 1.7.3 compiles them as its scalar reference loops (one float at a
// time, one accumulator), and cosine needed a second pass for |x|². See README.md for timings.
#include "scan.h"

#include "errors.h"
#include "kernels.h"
#include "validate.h"

#include <faiss/utils/Heap.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "scan.cc reads filter bitmaps 64 bits at a time and assumes a little-endian target"
#endif

namespace conifer {
namespace {

enum class ScanMetric { L2, IP, Cosine };

/// Candidate order for faiss's heap templates (faiss/utils/Heap.h), which only use cmp2:
/// cmp2(a, b, ia, ib) says whether (a, ia) is *worse* than (b, ib), so the heap top is the worst
/// candidate kept. Keys are smaller-is-better (scores of 'ip' and 'cosine' are negated); equal
/// keys prefer the smaller row; NaN (NaN or infinite vector components) is worse than any number.
struct WorseFirst {
  using T = float;
  using TI = int32_t;
  static bool cmp2(float a, float b, int32_t ia, int32_t ib) {
    if (a > b) return true;
    if (a < b) return false;
    if (a == b) return ia > ib;
    const bool aNan = std::isnan(a);
    if (aNan != std::isnan(b)) return aNan;
    return ia > ib;  // both NaN
  }
  static float neutral() { return std::numeric_limits<float>::infinity(); }
};

/// The best k candidates seen so far, as a heap stored directly in the output arrays.
class TopK {
 public:
  TopK(float* keys, int32_t* rows, size_t k) : keys_(keys), rows_(rows), k_(k) {}

  void offer(float key, int32_t row) {
    if (size_ < k_) {
      ++size_;
      faiss::heap_push<WorseFirst>(size_, keys_, rows_, key, row);
    } else if (WorseFirst::cmp2(keys_[0], key, rows_[0], row)) {
      faiss::heap_replace_top<WorseFirst>(k_, keys_, rows_, key, row);
    }
  }

  /// Sorts the kept candidates best-first in place and pads the rest with (padKey, -1).
  void finish(float padKey) {
    for (size_t n = size_; n > 1; --n) {
      const float key = keys_[0];
      const int32_t row = rows_[0];
      faiss::heap_pop<WorseFirst>(n, keys_, rows_);
      keys_[n - 1] = key;
      rows_[n - 1] = row;
    }
    std::fill(keys_ + size_, keys_ + k_, padKey);
    std::fill(rows_ + size_, rows_ + k_, -1);
  }

 private:
  float* keys_;
  int32_t* rows_;
  size_t k_;
  size_t size_ = 0;
};

/// Rows scored per kernel call; for scattered rows also the prefetch distance (one to two
/// batches ahead). Measured with d = 128 on the dev VM: 8 beats 4, 16 and 32 for 10,000
/// scattered rows (more rows in flight than the core has line-fill buffers only adds traffic).
constexpr size_t kBatch = 8;

// Keys of a batch of rows: smaller is better.
struct L2Keys {
  const ScanKernels* kernels;
  const float* query;
  size_t d;
  void operator()(const float* const* rows, size_t n, float* keys) const {
    kernels->l2sqr(query, rows, n, d, keys);
  }
};

struct IpKeys {
  const ScanKernels* kernels;
  const float* query;
  size_t d;
  void operator()(const float* const* rows, size_t n, float* keys) const {
    kernels->inner(query, rows, n, d, keys);
    for (size_t i = 0; i < n; ++i) keys[i] = -keys[i];
  }
};

/// -ip / (|q|·|x|), computed in double from the kernel's float ip and |x|² (one pass over the
/// row); 0 when either vector is zero (the formula of @conifer/core's cosine scorer).
struct CosineKeys {
  const ScanKernels* kernels;
  const float* query;
  size_t d;
  double queryNorm;
  void operator()(const float* const* rows, size_t n, float* keys) const {
    float ip[kBatch];
    float norms[kBatch];
    kernels->innerAndNorm(query, rows, n, d, ip, norms);
    for (size_t i = 0; i < n; ++i) {
      const double denom = queryNorm * std::sqrt(static_cast<double>(norms[i]));
      keys[i] = -static_cast<float>(denom == 0 ? 0.0 : static_cast<double>(ip[i]) / denom);
    }
  }
};

// Row visitors: call fn(row, at) once for every eligible row, whose vector is row `at` of the
// vectors (the row itself, unless a list gives each row's position).
struct AllRows {
  int64_t nrows;
  template <class Fn>
  void operator()(Fn&& fn) const {
    for (int64_t row = 0; row < nrows; ++row) fn(row, row);
  }
};

/// Rows whose bit is set; bits at or past nrows are ignored, rows past the bitmap's end are not
/// allowed. Full 64-bit words first (little-endian load: bit b of byte j is row 8j + b).
struct BitmapRows {
  const uint8_t* bitmap;
  size_t bytes;
  int64_t nrows;
  template <class Fn>
  void operator()(Fn&& fn) const {
    const int64_t covered = std::min<int64_t>(nrows, static_cast<int64_t>(bytes) * 8);
    const int64_t words = covered / 64;
    for (int64_t w = 0; w < words; ++w) {
      uint64_t word;
      std::memcpy(&word, bitmap + w * 8, sizeof word);
      while (word != 0) {
        const int64_t row = w * 64 + __builtin_ctzll(word);
        fn(row, row);
        word &= word - 1;
      }
    }
    for (int64_t row = words * 64; row < covered; ++row) {
      if ((bitmap[row >> 3] >> (row & 7)) & 1) fn(row, row);
    }
  }
};

/// Explicit row numbers (already range-checked), as a set: a repeated row is visited once.
/// A strictly ascending list (a filter's rows) cannot repeat one, so it skips the `seen` bitmap:
/// for a slab of a million rows that is a 125 KiB allocation to zero for a 10,000-row scan.
/// `at`, when given, holds each listed row's position (at[i] for rows[i], range-checked).
struct ListedRows {
  const int32_t* rows;
  const uint32_t* at;
  size_t count;
  int64_t nrows;
  bool ascending;
  template <class Fn>
  void operator()(Fn&& fn) const {
    const auto position = [&](size_t i) -> int64_t { return at ? static_cast<int64_t>(at[i]) : rows[i]; };
    if (ascending) {
      for (size_t i = 0; i < count; ++i) fn(rows[i], position(i));
      return;
    }
    std::vector<uint64_t> seen(static_cast<size_t>((nrows + 63) / 64), 0);
    for (size_t i = 0; i < count; ++i) {
      const int32_t row = rows[i];
      uint64_t& word = seen[static_cast<size_t>(row) >> 6];
      const uint64_t bit = uint64_t{1} << (row & 63);
      if ((word & bit) != 0) continue;
      word |= bit;
      fn(row, position(i));
    }
  }
};

/// Cache lines prefetched per row, at most (1 KiB: all of a 256-dimensional row).
constexpr size_t kMaxPrefetchLines = 16;

template <class Keys, class Visit>
void scanWith(const float* vectors, size_t d, const Keys& keys, const Visit& visit, TopK& top) {
  const float* pointers[kBatch];
  float scores[kBatch];
  const auto score = [&](const int32_t* rows, const float* const* at, size_t n) {
    keys(at, n, scores);
    for (size_t i = 0; i < n; ++i) top.offer(scores[i], rows[i]);
  };
  if constexpr (std::is_same_v<Visit, AllRows>) {
    // Sequential: the hardware prefetcher keeps up.
    int32_t rows[kBatch];
    for (int64_t start = 0; start < visit.nrows; start += static_cast<int64_t>(kBatch)) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(kBatch, visit.nrows - start));
      for (size_t i = 0; i < n; ++i) {
        rows[i] = static_cast<int32_t>(start + static_cast<int64_t>(i));
        pointers[i] = vectors + static_cast<size_t>(rows[i]) * d;
      }
      score(rows, pointers, n);
    }
  } else {
    // Scattered rows (a sparse subset of a large buffer) are DRAM- and TLB-miss bound: prefetch
    // each row when it is visited and score it one batch later, so the misses of the next batch
    // overlap the distance work of this one. Two batches alternate: one filling, one waiting.
    const size_t rowBytes = d * sizeof(float);
    int32_t batches[2][kBatch];
    const float* batchPointers[2][kBatch] = {};
    size_t filling = 0;
    size_t count = 0;
    bool waiting = false;
    visit([&](int64_t row, int64_t at) {
      const float* vector = vectors + static_cast<size_t>(at) * d;
      const auto start = reinterpret_cast<uintptr_t>(vector);
      const uintptr_t first = start & ~uintptr_t{63};
      const uintptr_t end = std::min(start + rowBytes, first + kMaxPrefetchLines * 64);
      for (uintptr_t line = first; line < end; line += 64) {
        __builtin_prefetch(reinterpret_cast<const void*>(line));
      }
      batchPointers[filling][count] = vector;
      batches[filling][count++] = static_cast<int32_t>(row);
      if (count == kBatch) {
        if (waiting) score(batches[filling ^ 1], batchPointers[filling ^ 1], kBatch);
        waiting = true;
        filling ^= 1;
        count = 0;
      }
    });
    // Drain (the order does not matter to the result: ties go by row number).
    if (waiting) score(batches[filling ^ 1], batchPointers[filling ^ 1], kBatch);
    score(batches[filling], batchPointers[filling], count);
  }
}

template <class Visit>
void scanMetric(const ScanKernels& kernels, ScanMetric metric, const float* vectors,
                const float* query, size_t d, const Visit& visit, TopK& top) {
  switch (metric) {
    case ScanMetric::L2:
      scanWith(vectors, d, L2Keys{&kernels, query, d}, visit, top);
      break;
    case ScanMetric::IP:
      scanWith(vectors, d, IpKeys{&kernels, query, d}, visit, top);
      break;
    case ScanMetric::Cosine: {
      // |q|² with the kernel that computes |x|², so a row equal to the query scores exactly 1.
      float ignored;
      float queryNormSqr;
      kernels.innerAndNorm(query, &query, 1, d, &ignored, &queryNormSqr);
      const double queryNorm = std::sqrt(static_cast<double>(queryNormSqr));
      scanWith(vectors, d, CosineKeys{&kernels, query, d, queryNorm}, visit, top);
      break;
    }
  }
}

Napi::RangeError rangeError(Napi::Env env, const std::string& message) {
  return Napi::RangeError::New(env, message);
}

/// How many rows of `d` values `length` values make: a RangeError unless a whole number of rows
/// whose numbers fit an Int32Array. `what` names the argument.
int64_t rowCountOf(Napi::Env env, size_t length, int64_t d, const char* what) {
  if (length % static_cast<size_t>(d) != 0) {
    throw rangeError(env, std::string(what) + ".length (" + std::to_string(length) +
                              ") must be a multiple of dimension (" + std::to_string(d) + ")");
  }
  const int64_t nrows = static_cast<int64_t>(length / static_cast<size_t>(d));
  if (nrows > std::numeric_limits<int32_t>::max()) {
    throw rangeError(env, std::string(what) + " holds " + std::to_string(nrows) +
                              " rows; row numbers must fit an Int32Array (at most 2^31-1 rows)");
  }
  return nrows;
}

/// The query argument, checked to hold `d` floats.
Napi::Float32Array queryArg(Napi::Env env, const Napi::Value& value, int64_t d) {
  Napi::Float32Array query = float32Arg(value, "query");
  if (query.ElementLength() != static_cast<size_t>(d)) {
    throw rangeError(env, "query.length (" + std::to_string(query.ElementLength()) +
                              ") must equal dimension (" + std::to_string(d) + ")");
  }
  return query;
}

ScanMetric metricArg(Napi::Env env, const Napi::Value& value) {
  const std::string name = stringArg(value, "metric");
  if (name == "l2") return ScanMetric::L2;
  if (name == "ip") return ScanMetric::IP;
  if (name == "cosine") return ScanMetric::Cosine;
  throw rangeError(env, "metric must be 'l2', 'ip' or 'cosine', got '" + name + "'");
}

/// Explicit row numbers, each checked to lie in [0, nrows); `ascending` says whether they are
/// strictly ascending.
struct RowList {
  const int32_t* rows = nullptr;
  size_t count = 0;
  bool ascending = true;
};

RowList rowsArg(Napi::Env env, const Napi::Value& value, int64_t nrows) {
  Napi::Int32Array array = int32Arg(value, "rows");
  RowList list{array.Data(), array.ElementLength(), true};
  for (size_t i = 0; i < list.count; ++i) {
    if (list.rows[i] < 0 || list.rows[i] >= nrows) {
      throw rangeError(env, "rows[" + std::to_string(i) + "] = " + std::to_string(list.rows[i]) +
                                " is out of range [0, " + std::to_string(nrows) + ")");
    }
    if (i > 0 && list.rows[i] <= list.rows[i - 1]) list.ascending = false;
  }
  return list;
}

/// Sorts the kept candidates best-first and pads them, then turns keys back into the metric's
/// scores: larger is better for 'ip' and 'cosine', whose padding becomes -Infinity.
void finishScores(TopK& top, ScanMetric metric, float* distances, int64_t k) {
  top.finish(std::numeric_limits<float>::infinity());
  if (metric != ScanMetric::L2) {
    for (int64_t i = 0; i < k; ++i) distances[i] = -distances[i];
  }
}

/// What a scan returns: { distances, labels }.
Napi::Object scanResult(Napi::Env env, Napi::Float32Array distances, Napi::Int32Array labels) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("distances", distances);
  result.Set("labels", labels);
  return result;
}

}  // namespace

Napi::Value scanRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();

  // --- validation: nothing below reads vector memory until every argument has been checked.
  Napi::Float32Array vectors = float32Arg(info[0], "vectors");
  const int64_t d = integerArg(info[1], "dimension", 1, kMaxDimension);
  const int64_t nrows = rowCountOf(env, vectors.ElementLength(), d, "vectors");
  Napi::Float32Array query = queryArg(env, info[2], d);
  const int64_t k = integerArg(info[3], "k", 1, kMaxK);
  const ScanMetric metric = metricArg(env, info[4]);
  const bool hasAllowed = !isAbsent(info[5]);
  const bool hasRows = !isAbsent(info[6]);
  if (hasAllowed && hasRows) {
    throw Napi::TypeError::New(env,
                               "pass at most one of allowed (a bitmap) and rows (row numbers)");
  }
  const uint8_t* bitmap = nullptr;
  size_t bitmapBytes = 0;
  if (hasAllowed) {
    Napi::Uint8Array allowed = uint8Arg(info[5], "allowed");
    bitmap = allowed.Data();
    bitmapBytes = allowed.ElementLength();
  }
  // Row → position of its vector, for vectors stored in another order than rows are numbered (a
  // slab in list order); rows are then numbered in [0, positions.length). With rows only: each
  // listed row's position is looked up (in one pass, so the lookups overlap) and range-checked
  // before the scan reads any vector.
  const bool hasPositions = !isAbsent(info[7]);
  if (hasPositions && !hasRows) throw Napi::TypeError::New(env, "positions needs rows (row numbers)");
  Napi::Uint32Array positions;
  if (hasPositions) positions = uint32Arg(info[7], "positions");
  const int64_t rowLimit = hasPositions ? static_cast<int64_t>(positions.ElementLength()) : nrows;
  const RowList listed = hasRows ? rowsArg(env, info[6], rowLimit) : RowList{};
  const int32_t* rowList = listed.rows;
  const size_t rowCount = listed.count;
  const bool rowsAscending = listed.ascending;
  std::vector<uint32_t> listedAt;
  if (hasPositions) {
    const uint32_t* table = positions.Data();
    listedAt.resize(rowCount);
    for (size_t i = 0; i < rowCount; ++i) listedAt[i] = table[rowList[i]];
    for (size_t i = 0; i < rowCount; ++i) {
      if (listedAt[i] >= static_cast<uint64_t>(nrows)) {
        throw rangeError(env, "positions[" + std::to_string(rowList[i]) + "] = " + std::to_string(listedAt[i]) +
                                  " is out of range [0, " + std::to_string(nrows) + ")");
      }
    }
  }

  // --- results: the heap lives in the returned arrays.
  Napi::Float32Array distances = Napi::Float32Array::New(env, static_cast<size_t>(k));
  Napi::Int32Array labels = Napi::Int32Array::New(env, static_cast<size_t>(k));
  const ScanKernels& kernels = activeScanKernels();
  runOrThrow(env, [&] {
    const float* base = vectors.Data();
    const float* q = query.Data();
    const size_t dim = static_cast<size_t>(d);
    TopK top(distances.Data(), labels.Data(), static_cast<size_t>(k));
    if (hasRows) {
      const uint32_t* at = hasPositions ? listedAt.data() : nullptr;
      scanMetric(kernels, metric, base, q, dim, ListedRows{rowList, at, rowCount, rowLimit, rowsAscending}, top);
    } else if (hasAllowed) {
      scanMetric(kernels, metric, base, q, dim, BitmapRows{bitmap, bitmapBytes, nrows}, top);
    } else {
      scanMetric(kernels, metric, base, q, dim, AllRows{nrows}, top);
    }
    finishScores(top, metric, distances.Data(), k);
  });
  return scanResult(env, distances, labels);
}

Napi::Value scanCodes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();

  // --- validation: nothing below reads code memory until every argument has been checked.
  Napi::Uint8Array codes = uint8Arg(info[0], "codes");
  const int64_t d = integerArg(info[1], "dimension", 1, kMaxDimension);
  const int64_t nrows = rowCountOf(env, codes.ElementLength(), d, "codes");
  Napi::Float32Array query = queryArg(env, info[2], d);
  const int64_t k = integerArg(info[3], "k", 1, kMaxK);
  const ScanMetric metric = metricArg(env, info[4]);
  Napi::Float32Array minArg = float32Arg(info[5], "min");
  Napi::Float32Array stepArg = float32Arg(info[6], "step");
  if (minArg.ElementLength() != static_cast<size_t>(d) || stepArg.ElementLength() != static_cast<size_t>(d)) {
    throw rangeError(env, "min and step must hold dimension (" + std::to_string(d) + ") floats each");
  }
  const bool hasRows = !isAbsent(info[7]);
  const RowList listed = hasRows ? rowsArg(env, info[7], nrows) : RowList{};
  const int32_t* rowList = listed.rows;
  const size_t rowCount = hasRows ? listed.count : static_cast<size_t>(nrows);

  Napi::Float32Array distances = Napi::Float32Array::New(env, static_cast<size_t>(k));
  Napi::Int32Array labels = Napi::Int32Array::New(env, static_cast<size_t>(k));
  const CodeKernels& kernels = activeCodeKernels();
  runOrThrow(env, [&] {
    const size_t dim = static_cast<size_t>(d);
    const uint8_t* base = codes.Data();
    const float* q = query.Data();
    const float* mn = minArg.Data();
    const float* st = stepArg.Data();
    TopK top(distances.Data(), labels.Data(), static_cast<size_t>(k));
    const auto rowAt = [&](size_t i) -> int32_t { return rowList ? rowList[i] : static_cast<int32_t>(i); };
    if (metric == ScanMetric::L2) {
      // |x − q|² = Σ (step·c + (min − q))².
      std::vector<float> offset(dim);
      for (size_t j = 0; j < dim; ++j) offset[j] = mn[j] - q[j];
      for (size_t i = 0; i < rowCount; ++i) {
        const int32_t row = rowAt(i);
        top.offer(kernels.l2(st, offset.data(), base + static_cast<size_t>(row) * dim, dim), row);
      }
    } else if (metric == ScanMetric::IP) {
      // q·x = Σ q·min + Σ (q·step)·c.
      std::vector<float> w(dim);
      double constant = 0;
      for (size_t j = 0; j < dim; ++j) {
        w[j] = q[j] * st[j];
        constant += static_cast<double>(q[j]) * mn[j];
      }
      const float c0 = static_cast<float>(constant);
      for (size_t i = 0; i < rowCount; ++i) {
        const int32_t row = rowAt(i);
        top.offer(-(c0 + kernels.dot(w.data(), base + static_cast<size_t>(row) * dim, dim)), row);
      }
    } else {
      double qq = 0;
      for (size_t j = 0; j < dim; ++j) qq += static_cast<double>(q[j]) * q[j];
      const double queryNorm = std::sqrt(qq);
      for (size_t i = 0; i < rowCount; ++i) {
        const int32_t row = rowAt(i);
        float ip;
        float norm;
        kernels.innerAndNorm(q, mn, st, base + static_cast<size_t>(row) * dim, dim, &ip, &norm);
        const double denom = queryNorm * std::sqrt(static_cast<double>(norm));
        top.offer(-static_cast<float>(denom == 0 ? 0.0 : static_cast<double>(ip) / denom), row);
      }
    }
    finishScores(top, metric, distances.Data(), k);
  });
  return scanResult(env, distances, labels);
}

Napi::Value setScanKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string name = stringArg(info[0], "kernel");
  if (name != "auto" && name != "sse" && name != "avx2") {
    throw rangeError(env, "kernel must be 'auto', 'sse' or 'avx2', got '" + name + "'");
  }
  if (!setScanKernels(name)) {
    throw rangeError(env, "the avx2 scan kernels need a CPU with AVX2 and FMA; this one has " +
                              std::string(detectedScanKernels().name) + " only");
  }
  return Napi::String::New(env, activeScanKernels().name);
}

Napi::Value scanKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), activeScanKernels().name);
}

}  // namespace conifer
