// EAL inside a host process (Node): initialised once, torn down once.
#pragma once

#include <string>
#include <vector>

#include "status.h"

namespace microarp {

// Runs rte_eal_init with `args` (args[0] is the program name) and gives the calling thread
// back the CPU affinity it had, so that the host's other threads are not all pinned to the
// main lcore's CPU. EAL can be initialised once per process.
Status eal_init(const std::vector<std::string>& args);

// rte_eal_cleanup, then removes this instance's runtime directory (/var/run/dpdk/<prefix>)
// and the hugetlbfs files of the segments it still held, so that a clean stop leaves nothing
// behind.
void eal_cleanup();

bool eal_initialised();

}  // namespace microarp
