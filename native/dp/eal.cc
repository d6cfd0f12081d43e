#include "eal.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <filesystem>
#include <system_error>

namespace microarp {
namespace {

enum class EalState { fresh, running, cleaned };
EalState g_state = EalState::fresh;

}  // namespace

Status eal_init(const std::vector<std::string>& args) {
  if (g_state != EalState::fresh) {
    return Status::error("EAL_ALREADY",
                         "DPDK's EAL was already initialised in this process; it can be "
                         "initialised once per process (start another process instead)");
  }

  cpu_set_t host_affinity;
  const bool have_affinity =
      pthread_getaffinity_np(pthread_self(), sizeof host_affinity, &host_affinity) == 0;

  std::vector<char*> argv;
  std::vector<std::string> storage(args);  // rte_eal_init may permute argv
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  const int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (have_affinity) pthread_setaffinity_np(pthread_self(), sizeof host_affinity, &host_affinity);
  if (rc < 0) {
    // Once rte_eal_init has failed it cannot be retried in this process either.
    g_state = EalState::cleaned;
    return Status::error("EAL_INIT", std::string("DPDK EAL initialisation failed: ") +
                                         rte_strerror(rte_errno) +
                                         " (EAL's own messages above say why; check the 'eal' "
                                         "arguments, memory, and that no other instance uses "
                                         "the same --file-prefix)");
  }
  g_state = EalState::running;
  return Status::success();
}

void eal_cleanup() {
  if (g_state != EalState::running) return;
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  g_state = EalState::cleaned;
  std::error_code ignored;
  if (!runtime_dir.empty()) std::filesystem::remove_all(runtime_dir, ignored);
}

bool eal_initialised() { return g_state == EalState::running; }

}  // namespace microarp
