// The single writer of the binding table and the forwarding database. Submitters (libuv pool threads, never the workers)
// push fixed-size UpdateRecords into an rte_ring; one thread drains it in bursts and applies
// them. A submitter returns only after the writer has applied its last record, which is when
// the change is visible to every worker. A full ring makes the submitter wait: nothing is lost.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "../core/update_record.h"
#include "binding_table.h"
#include "fdb.h"
#include "status.h"

namespace microarp {

class TableWriter {
 public:
  TableWriter(BindingTable& table, Fdb& fdb) : table_(table), fdb_(fdb) {}
  TableWriter(const TableWriter&) = delete;
  TableWriter& operator=(const TableWriter&) = delete;
  ~TableWriter() { stop(); }

  Status start(const char* ring_name, uint32_t ring_size, int socket_id);
  void stop();

  // Applies `count` packed updates (kPackedUpdateSize bytes each, layout in update_record.h)
  // and returns once all of them are visible to the workers. Safe from any non-worker thread;
  // concurrent batches are applied one after the other, each in its own order.
  UpdateResult submit(const uint8_t* packed, size_t count);

  uint32_t ring_depth() const { return ring_ ? rte_ring_count(ring_) : 0; }
  // Times a submitter found the ring full and waited for the writer to make room.
  uint64_t ring_full_waits() const { return ring_full_waits_.load(std::memory_order_relaxed); }

 private:
  void run();

  void apply(const UpdateRecord& record);

  BindingTable& table_;
  Fdb& fdb_;
  rte_ring* ring_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Serialises submitters so that record order is batch order and `enqueued_` marks where
  // each batch ends.
  std::mutex submit_mutex_;
  uint64_t enqueued_ = 0;

  // Wakes the writer when records arrive and submitters when records are applied. Off the
  // packet path: workers never touch any of this.
  std::mutex wake_mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> ring_full_waits_{0};
  unsigned bursts_since_wake_ = 0;  // the writer thread's own
  UpdateRecord ipv6_op_ = {};       // the writer's: an IPv6 op waiting for its address record
};

}  // namespace microarp
