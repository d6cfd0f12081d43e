#include "eal.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <sched.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace microarp {
namespace {

enum class EalState { fresh, running, cleaned };
EalState g_state = EalState::fresh;

// The hugetlbfs files behind the memory segments this process still holds (`prefix`map_N).
// Without --huge-unlink (kept off so that secondary processes such as dpdk-dumpcap can map
// the memory), rte_eal_cleanup leaves them behind and their hugepages stay reserved until the
// next DPDK primary clears the directory. Segments without a named file (--no-huge memfd,
// already unlinked files) are skipped.
std::vector<std::string> own_hugepage_files(const std::string& file_prefix) {
  struct Walk {
    std::string prefix;
    std::vector<std::string> files;
  } walk{file_prefix + "map_", {}};
  rte_memseg_walk(
      [](const rte_memseg_list* msl, const rte_memseg* ms, void* arg) -> int {
        auto* w = static_cast<Walk*>(arg);
        if (msl->external) return 0;
        const int fd = rte_memseg_get_fd_thread_unsafe(ms);
        if (fd < 0) return 0;
        std::error_code ec;
        const std::filesystem::path path =
            std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
        if (ec || !path.is_absolute()) return 0;
        if (path.filename().string().rfind(w->prefix, 0) != 0) return 0;
        w->files.push_back(path.string());
        return 0;
      },
      &walk);
  std::sort(walk.files.begin(), walk.files.end());
  walk.files.erase(std::unique(walk.files.begin(), walk.files.end()), walk.files.end());
  return walk.files;
}

// The control side runs on the main lcore's CPUs: every thread of the process (Node's main
// thread, V8's and libuv's pools, and DPDK's control threads) except EAL's worker lcores,
// which EAL pins itself. Threads created later (the table writer, vhost-user's events thread)
// inherit it. When the workers have CPUs of their own, nothing of the control side can
// preempt a polling worker: a vhost-user guest's burst is drained without pause.
void confine_control_threads() {
  const rte_cpuset_t cpus = rte_lcore_cpuset(rte_get_main_lcore());
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("rte-worker", 0) == 0) continue;
    const pid_t tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
    sched_setaffinity(tid, sizeof cpus, &cpus);
  }
}

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
  if (rc >= 0) {
    confine_control_threads();
  } else if (have_affinity) {
    pthread_setaffinity_np(pthread_self(), sizeof host_affinity, &host_affinity);
  }
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
  const std::vector<std::string> hugepage_files =
      runtime_dir.empty()
          ? std::vector<std::string>{}
          : own_hugepage_files(std::filesystem::path(runtime_dir).filename().string());
  rte_eal_cleanup();
  g_state = EalState::cleaned;
  std::error_code ignored;
  if (!runtime_dir.empty()) std::filesystem::remove_all(runtime_dir, ignored);
  for (const std::string& file : hugepage_files) std::filesystem::remove(file, ignored);
}

bool eal_initialised() { return g_state == EalState::running; }

}  // namespace microarp
