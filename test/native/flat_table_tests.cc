// Unit tests of FlatTable, the workers' lock-free table: its single-threaded semantics, probe
// chains across removals, and readers racing one writer. Needs EAL for its memory (no
// hugepages, its own file prefix).
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "eal.h"
#include "flat_table.h"
#include "tap.h"

using namespace microarp;

namespace {

constexpr uint64_t kHashMultiplier = 0x9E3779B97F4A7C15ull;  // FlatTable's own

// A QSBR variable for `readers` threads, freed with the fixture.
struct Qsbr {
  explicit Qsbr(uint32_t readers) {
    v = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, rte_rcu_qsbr_get_memsize(readers), 64));
    rte_rcu_qsbr_init(v, readers);
  }
  ~Qsbr() { rte_free(v); }
  rte_rcu_qsbr* v;
};

// The value stored for a key in these tests names its key, so a reader can tell a value that
// belongs to another key.
uint64_t value_for(uint64_t key, uint64_t version) { return key << 16 | (version & 0xffff); }

TEST(put_lookup_replace_remove, "put, lookup, replace, remove, and a full table refusing adds") {
  Qsbr qsbr(1);
  FlatTable t;
  CHECK(t.create("ftt_basic", 1000, qsbr.v, SOCKET_ID_ANY).ok());
  for (uint64_t k = 0; k < 1000; k++) CHECK(t.put(k * 7919, value_for(k, 1)) == FlatTable::Put::added);
  CHECK(t.size() == 1000);
  CHECK(t.put(123456789, 1) == FlatTable::Put::full);
  uint64_t v = 0;
  for (uint64_t k = 0; k < 1000; k++) CHECK(t.lookup(k * 7919, &v) && v == value_for(k, 1));
  CHECK(!t.lookup(7919 * 1000 + 1, &v));
  CHECK(t.put(0, value_for(0, 1)) == FlatTable::Put::unchanged);
  CHECK(t.put(0, value_for(0, 2)) == FlatTable::Put::replaced);
  CHECK(t.lookup(0, &v) && v == value_for(0, 2));
  for (uint64_t k = 0; k < 1000; k += 2) CHECK(t.remove(k * 7919, nullptr));
  CHECK(!t.remove(0, nullptr));
  CHECK(t.size() == 500);
  for (uint64_t k = 0; k < 1000; k++) CHECK(t.lookup(k * 7919, &v) == (k % 2 == 1));
  // No reader is registered: removed slots are free again at once.
  for (uint64_t k = 0; k < 1000; k += 2) CHECK(t.put(k * 7919, value_for(k, 3)) == FlatTable::Put::added);
  for (uint64_t k = 0; k < 1000; k++) CHECK(t.lookup(k * 7919, &v) && (v >> 16) == k);
  uint64_t seen = 0;
  t.for_each([&](uint64_t key, uint64_t value) { seen += (value >> 16) * 7919 == key; });
  CHECK(seen == 1000);
  // Keys use 60 bits: the top VLAN bits of an FDB key are kept apart from the flags.
  const uint64_t widest = FlatTable::kKeyMask;
  CHECK(t.remove(7919, nullptr));
  CHECK(t.put(widest, 42) == FlatTable::Put::added);
  CHECK(t.lookup(widest, &v) && v == 42);
  t.destroy();
}

TEST(probe_chains, "keys past a full home bucket stay found when keys before them go") {
  Qsbr qsbr(1);
  FlatTable t;
  CHECK(t.create("ftt_chain", 64, qsbr.v, SOCKET_ID_ANY).ok());  // 32 buckets of 4
  // Twelve keys with the same home bucket: they fill it and the two after it.
  std::vector<uint64_t> same_home;
  for (uint64_t k = 1; same_home.size() < 12; k++)
    if (((k * kHashMultiplier) >> 59) == 5) same_home.push_back(k);
  for (uint64_t k : same_home) CHECK(t.put(k, value_for(k, 1)) == FlatTable::Put::added);
  uint64_t v;
  for (uint64_t k : same_home) CHECK(t.lookup(k, &v) && v == value_for(k, 1));
  // Remove from the home bucket and from the middle of the chain.
  CHECK(t.remove(same_home[1], nullptr));
  CHECK(t.remove(same_home[5], nullptr));
  for (size_t i = 0; i < same_home.size(); i++)
    CHECK(t.lookup(same_home[i], &v) == (i != 1 && i != 5));
  // Once every overflowing key is gone, a miss stops at the home bucket again.
  for (size_t i = 4; i < same_home.size(); i++)
    if (i != 5) CHECK(t.remove(same_home[i], nullptr));
  CHECK(t.size() == 3);
  for (size_t i = 0; i < 4; i++) CHECK(t.lookup(same_home[i], &v) == (i != 1));
  t.destroy();
}

TEST(pending_slots, "a removed slot is not reused before every reader has been quiescent") {
  Qsbr qsbr(1);
  rte_rcu_qsbr_thread_register(qsbr.v, 0);
  rte_rcu_qsbr_thread_online(qsbr.v, 0);
  FlatTable t;
  CHECK(t.create("ftt_pending", 2, qsbr.v, SOCKET_ID_ANY).ok());  // 2 buckets, 8 slots
  // The reader never reports: each removed slot waits, so after eight add-and-remove rounds no
  // slot is free although the table is empty.
  uint64_t added = 0;
  for (uint64_t k = 100; k < 120; k++) {
    if (t.put(k, k) == FlatTable::Put::added) added++;
    t.remove(k, nullptr);
  }
  CHECK(added == 8);
  CHECK(t.size() == 0);
  rte_rcu_qsbr_quiescent(qsbr.v, 0);
  CHECK(t.put(500, 500) == FlatTable::Put::added);
  rte_rcu_qsbr_thread_offline(qsbr.v, 0);
  rte_rcu_qsbr_thread_unregister(qsbr.v, 0);
  t.destroy();
}

TEST(readers_race_one_writer, "readers racing one writer never see another key's value, nor miss a stable key") {
  constexpr uint32_t kReaders = 2;
  constexpr uint64_t kStable = 1024, kChurn = 6144;
  Qsbr qsbr(kReaders);
  FlatTable t;
  CHECK(t.create("ftt_race", kStable + kChurn, qsbr.v, SOCKET_ID_ANY).ok());
  for (uint64_t k = 0; k < kStable; k++) t.put(k, value_for(k, 0));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> wrong{0}, missed{0}, lookups{0};
  std::vector<std::thread> readers;
  for (uint32_t r = 0; r < kReaders; r++) {
    readers.emplace_back([&, r] {
      rte_rcu_qsbr_thread_register(qsbr.v, r);
      rte_rcu_qsbr_thread_online(qsbr.v, r);
      std::mt19937_64 rng(r + 1);
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        uint64_t keys[32], values[32];
        for (auto& k : keys) k = rng() % (kStable + kChurn);
        const uint64_t hits = t.lookup_bulk(keys, 32, values);
        for (int i = 0; i < 32; i++) {
          const bool hit = (hits >> i) & 1;
          if (hit && (values[i] >> 16) != keys[i]) wrong++;
          if (!hit && keys[i] < kStable) missed++;
        }
        n += 32;
        rte_rcu_qsbr_quiescent(qsbr.v, r);
      }
      lookups += n;
      rte_rcu_qsbr_thread_offline(qsbr.v, r);
      rte_rcu_qsbr_thread_unregister(qsbr.v, r);
    });
  }
  std::mt19937_64 rng(99);
  uint64_t changes = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1024; i++, changes++) {
      const uint64_t k = kStable + rng() % kChurn;
      if (rng() & 1) t.put(k, value_for(k, changes));
      else t.remove(k, nullptr);
    }
  }
  stop = true;
  for (auto& th : readers) th.join();
  std::printf("  # %llu changes, %llu lookups\n", static_cast<unsigned long long>(changes),
              static_cast<unsigned long long>(lookups.load()));
  CHECK(changes > 100000);
  CHECK(lookups.load() > 100000);
  CHECK(wrong.load() == 0);
  CHECK(missed.load() == 0);
  t.destroy();
}

}  // namespace

int main() {
  const std::string prefix = "microarp-ftt-" + std::to_string(getpid());
  const Status status = eal_init({"flat_table_tests", "--no-huge", "-m", "256", "--no-pci",
                                  "--no-telemetry", "--log-level", "lib.eal:error",
                                  "--file-prefix", prefix, "--lcores", "0@(0-1)"});
  if (!status.ok()) {
    std::printf("Bail out! EAL: %s\n", status.message.c_str());
    return 1;
  }
  const int failed = tap::run_all();
  eal_cleanup();
  return failed;
}
