#include "table_writer.h"

#include <rte_errno.h>

#include <chrono>
#include <cstring>
#include <string>

namespace microarp {
namespace {

constexpr unsigned kWriterBurst = 256;
constexpr unsigned kBurstsPerWake = 64;
// How long the writer sleeps when there is nothing to apply: it still drains the workers'
// learn rings and ages the FDB at this pace.
constexpr auto kIdleWait = std::chrono::milliseconds(1);

uint64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status TableWriter::start(const char* ring_name, uint32_t ring_size, int socket_id) {
  ring_ = rte_ring_create_elem(ring_name, sizeof(UpdateRecord), ring_size, socket_id,
                               RING_F_SC_DEQ | RING_F_EXACT_SZ);
  if (ring_ == nullptr) {
    return Status::error("RING_CREATE", std::string("cannot create the update ring: ") +
                                            rte_strerror(rte_errno));
  }
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return Status::success();
}

void TableWriter::stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(wake_mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    thread_.join();
  }
  if (ring_ != nullptr) rte_ring_free(ring_);
  ring_ = nullptr;
}

UpdateResult TableWriter::submit(const uint8_t* packed, size_t count) {
  UpdateResult result;
  if (count == 0) return result;

  uint64_t batch_end;
  {
    std::lock_guard<std::mutex> submit_lock(submit_mutex_);
    UpdateRecord chunk[kWriterBurst];
    size_t done = 0;
    bool address_next = false;
    while (done < count) {
      const unsigned n =
          static_cast<unsigned>(count - done < kWriterBurst ? count - done : kWriterBurst);
      for (unsigned i = 0; i < n; i++) {
        const uint8_t* p = packed + (done + i) * kPackedUpdateSize;
        if (address_next) {
          chunk[i] = address_record(p, &result);
          address_next = false;
          continue;
        }
        chunk[i] = unpack_update(p, &result);
        if (is_ipv6_op(chunk[i].op)) {
          // An IPv6 op without its address record (a caller's mistake, not a case the
          // control side produces) is dropped here rather than pairing with what follows.
          if (done + i + 1 == count) chunk[i].op = UpdateOp::none;
          address_next = true;
        }
      }
      unsigned sent = 0;
      while (sent < n) {
        sent += rte_ring_mp_enqueue_burst_elem(ring_, chunk + sent, sizeof(UpdateRecord),
                                               n - sent, nullptr);
        if (sent < n) {
          // Ring full: wake the writer and give it time to drain (backpressure).
          ring_full_waits_.fetch_add(1, std::memory_order_relaxed);
          work_ready_.notify_one();
          std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
      }
      done += n;
      work_ready_.notify_one();
    }
    enqueued_ += count;
    batch_end = enqueued_;
  }

  std::unique_lock<std::mutex> lock(wake_mutex_);
  work_done_.wait(lock, [&] { return applied_.load(std::memory_order_acquire) >= batch_end; });
  return result;
}

void TableWriter::apply(const UpdateRecord& record) {
  if (ipv6_op_.op != UpdateOp::none) {
    // The record after an IPv6 op: its address. The ring keeps a batch's records in order,
    // and batches never interleave (submit_mutex_), so this is always the op's own.
    uint8_t addr[16];
    record_address(record, addr);
    table_.apply6(ipv6_op_, addr);
    ipv6_op_.op = UpdateOp::none;
    return;
  }
  switch (record.op) {
    case UpdateOp::upsert:
    case UpdateOp::remove: table_.apply(record); break;
    case UpdateOp::fdb_static_add:
    case UpdateOp::fdb_remove: fdb_.apply_static(record); break;
    case UpdateOp::upsert6:
    case UpdateOp::remove6: ipv6_op_ = record; break;
    case UpdateOp::none: break;
  }
}

void TableWriter::run() {
  UpdateRecord burst[kWriterBurst];
  for (;;) {
    fdb_.service(now_ms());
    const unsigned n =
        rte_ring_sc_dequeue_burst_elem(ring_, burst, sizeof(UpdateRecord), kWriterBurst, nullptr);
    if (n == 0) {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      if (stopping_) return;
      work_ready_.wait_for(lock, kIdleWait, [&] { return stopping_ || rte_ring_count(ring_) > 0; });
      continue;
    }
    for (unsigned i = 0; i < n; i++) apply(burst[i]);
    applied_.fetch_add(n, std::memory_order_release);
    // Submitters wait for the end of their batch, not for every burst: wake them when the
    // ring is dry (every batch ends that way, whatever its size) or every few bursts under
    // continuous load.
    if (rte_ring_empty(ring_) || ++bursts_since_wake_ >= kBurstsPerWake) {
      bursts_since_wake_ = 0;
      { std::lock_guard<std::mutex> lock(wake_mutex_); }
      work_done_.notify_all();
    }
  }
}

}  // namespace microarp
