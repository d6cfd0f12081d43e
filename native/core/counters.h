// Counter and drop-reason identifiers, built from the one list in counters.def.
#pragma once

#include <cstddef>
#include <cstdint>

namespace microarp {

enum class Counter : uint16_t {
#define MICROARP_COUNTER(name, help) name,
#include "counters.def"
};

enum class DropReason : uint16_t {
  none = 0,
#define MICROARP_DROP(name, help) name,
#include "counters.def"
};

constexpr size_t kCounterCount = 0
#define MICROARP_COUNTER(name, help) +1
#include "counters.def"
    ;

// Drop reasons are numbered from 1; slot 0 of a drop array stays unused so that
// DropReason::none never needs a branch on the hot path.
constexpr size_t kDropSlots = 1
#define MICROARP_DROP(name, help) +1
#include "counters.def"
    ;

enum class Violation : uint8_t {
  none = 0,
#define MICROARP_VIOLATION(name, help) name,
#include "counters.def"
};

// Slot 0 (none) unused, as for drops.
constexpr size_t kViolationSlots = 1
#define MICROARP_VIOLATION(name, help) +1
#include "counters.def"
    ;

extern const char* const kCounterNames[kCounterCount];
extern const char* const kViolationNames[kViolationSlots];
extern const char* const kDropReasonNames[kDropSlots];

}  // namespace microarp
