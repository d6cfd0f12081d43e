// Per-worker counters. Each worker is the only writer of its own block (relaxed stores of
// values it keeps in the same cache lines), and readers sum blocks with relaxed loads: no
// locked instruction and no shared cache line on the hot path.
#pragma once

#include <rte_common.h>

#include <cstdint>

#include "../core/counters.h"

namespace microarp {

struct alignas(RTE_CACHE_LINE_SIZE) LcoreStats {
  uint64_t counters[kCounterCount];
  uint64_t drops[kDropSlots];
  uint64_t violations[kViolationSlots];

  void add(Counter c, uint64_t n) {
    uint64_t& slot = counters[static_cast<size_t>(c)];
    __atomic_store_n(&slot, slot + n, __ATOMIC_RELAXED);
  }
  void add_drop(DropReason r, uint64_t n) {
    uint64_t& slot = drops[static_cast<size_t>(r)];
    __atomic_store_n(&slot, slot + n, __ATOMIC_RELAXED);
  }
  void add_violation(Violation v, uint64_t n) {
    uint64_t& slot = violations[static_cast<size_t>(v)];
    __atomic_store_n(&slot, slot + n, __ATOMIC_RELAXED);
  }
  uint64_t read_violation(size_t slot) const {
    return __atomic_load_n(&violations[slot], __ATOMIC_RELAXED);
  }
  uint64_t read(Counter c) const {
    return __atomic_load_n(&counters[static_cast<size_t>(c)], __ATOMIC_RELAXED);
  }
  uint64_t read_drop(size_t slot) const { return __atomic_load_n(&drops[slot], __ATOMIC_RELAXED); }
};

// Counts gathered in registers/stack during one burst and flushed once at its end, so a burst
// costs one store per counter that moved rather than one per frame.
struct BurstTally {
  uint64_t counters[kCounterCount] = {};
  uint64_t drops[kDropSlots] = {};
  uint64_t violations[kViolationSlots] = {};

  void violation(Violation v) { violations[static_cast<size_t>(v)]++; }
  void count(Counter c, uint64_t n = 1) { counters[static_cast<size_t>(c)] += n; }
  void drop(DropReason r, uint64_t n = 1) { drops[static_cast<size_t>(r)] += n; }

  void flush_into(LcoreStats& stats) {
    for (size_t i = 0; i < kCounterCount; i++) {
      if (counters[i]) {
        stats.add(static_cast<Counter>(i), counters[i]);
        counters[i] = 0;
      }
    }
    for (size_t i = 1; i < kDropSlots; i++) {
      if (drops[i]) {
        stats.add_drop(static_cast<DropReason>(i), drops[i]);
        drops[i] = 0;
      }
    }
    for (size_t i = 1; i < kViolationSlots; i++) {
      if (violations[i]) {
        stats.add_violation(static_cast<Violation>(i), violations[i]);
        violations[i] = 0;
      }
    }
  }
};

}  // namespace microarp
