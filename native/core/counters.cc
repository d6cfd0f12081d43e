#include "counters.h"

namespace microarp {

const char* const kCounterNames[kCounterCount] = {
#define MICROARP_COUNTER(name, help) #name,
#include "counters.def"
};

const char* const kDropReasonNames[kDropSlots] = {
    "none",
#define MICROARP_DROP(name, help) #name,
#include "counters.def"
};

const char* const kViolationNames[kViolationSlots] = {
    "none",
#define MICROARP_VIOLATION(name, help) #name,
#include "counters.def"
};

}  // namespace microarp
