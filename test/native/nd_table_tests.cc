// Unit tests of NdTable, the workers' lock-free (VLAN, IPv6) table: its single-threaded
// semantics, keys that differ in one word or only in the VLAN, probe chains and overflow counts
// across removals, slots held back until a grace period, how structured address sets spread,
// and readers racing one writer. Needs EAL for its memory (no hugepages, its own file prefix).
#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "eal.h"
#include "nd_table.h"
#include "tap.h"

namespace microarp {

// What the tests read of the table's insides (NdTable names it a friend).
struct NdTableInspect {
  static uint32_t buckets(const NdTable& t) { return t.mask_ + 1; }
  static uint32_t home(const NdTable& t, const NdKey& key) { return t.home(key); }
  static uint64_t overflow(const NdTable& t, uint32_t bucket) {
    return NdTable::overflow_of(t.buckets_[bucket].slot[0].meta);
  }
  // How many buckets past its home `key` lives, or -1 when it is not in the table.
  static int64_t distance(const NdTable& t, const NdKey& key) {
    uint32_t b, probes;
    unsigned s;
    return t.find(key, &b, &s, &probes) ? int64_t(probes) : -1;
  }
  // Whether a removed slot, not reusable yet, still holds `key`.
  static bool pending_holds(const NdTable& t, const NdKey& key) {
    for (uint32_t b = 0; b <= t.mask_; b++) {
      for (const NdTable::Slot& s : t.buckets_[b].slot) {
        if ((s.meta & (NdTable::kValid | NdTable::kPending)) == NdTable::kPending &&
            (s.meta & NdTable::kVlanMask) == key.vlan && s.hi == key.hi && s.lo == key.lo)
          return true;
      }
    }
    return false;
  }
};

}  // namespace microarp

using namespace microarp;

namespace {

// A QSBR variable for `readers` threads, freed with the fixture.
struct Qsbr {
  explicit Qsbr(uint32_t readers) {
    v = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, rte_rcu_qsbr_get_memsize(readers), 64));
    rte_rcu_qsbr_init(v, readers);
  }
  ~Qsbr() { rte_free(v); }
  rte_rcu_qsbr* v;
};

NdKey key_of(uint16_t vlan, const char* text) {
  uint8_t addr[16];
  if (inet_pton(AF_INET6, text, addr) != 1) std::abort();
  return nd_key(vlan, addr);
}

// 2001:db8::/64, the host part `host` (big endian in the last 4 bytes).
NdKey host_key(uint16_t vlan, uint32_t host) {
  uint8_t addr[16] = {0x20, 0x01, 0x0d, 0xb8};
  const uint32_t be = htonl(host);
  std::memcpy(addr + 12, &be, 4);
  return nd_key(vlan, addr);
}

bool same(const NdKey& a, const NdKey& b) { return a.hi == b.hi && a.lo == b.lo && a.vlan == b.vlan; }

// The value stored for a key in these tests names its key (an index), so a reader can tell a
// value that belongs to another key.
uint64_t value_for(uint64_t index, uint64_t version) { return index << 16 | (version & 0xffff); }

TEST(put_lookup_replace_remove, "put, lookup, replace, remove, and a full table refusing adds") {
  Qsbr qsbr(1);
  NdTable t;
  CHECK(t.create("ndt_basic", 1000, qsbr.v, SOCKET_ID_ANY).ok());
  for (uint64_t k = 0; k < 1000; k++)
    CHECK(t.put(host_key(10, k * 7919), value_for(k, 1)) == NdTable::Put::added);
  CHECK(t.size() == 1000);
  CHECK(t.put(host_key(10, 123456789), 1) == NdTable::Put::full);
  uint64_t v = 0;
  for (uint64_t k = 0; k < 1000; k++) CHECK(t.lookup(host_key(10, k * 7919), &v) && v == value_for(k, 1));
  CHECK(!t.lookup(host_key(10, 7919 * 1000 + 1), &v));
  CHECK(t.put(host_key(10, 0), value_for(0, 1)) == NdTable::Put::unchanged);
  CHECK(t.put(host_key(10, 0), value_for(0, 2)) == NdTable::Put::replaced);
  CHECK(t.lookup(host_key(10, 0), &v) && v == value_for(0, 2));
  uint64_t old = 0;
  CHECK(t.remove(host_key(10, 0), &old) && old == value_for(0, 2));
  CHECK(!t.remove(host_key(10, 0), nullptr));
  for (uint64_t k = 2; k < 1000; k += 2) CHECK(t.remove(host_key(10, k * 7919), nullptr));
  CHECK(t.size() == 500);
  for (uint64_t k = 0; k < 1000; k++) CHECK(t.lookup(host_key(10, k * 7919), &v) == (k % 2 == 1));
  // No reader is registered: removed slots are free again at once.
  for (uint64_t k = 0; k < 1000; k += 2)
    CHECK(t.put(host_key(10, k * 7919), value_for(k, 3)) == NdTable::Put::added);
  CHECK(t.size() == 1000);
  for (uint64_t k = 0; k < 1000; k++) CHECK(t.lookup(host_key(10, k * 7919), &v) && (v >> 16) == k);
  uint64_t seen = 0;
  t.for_each([&](const NdKey& key, uint64_t value) { seen += same(key, host_key(10, (value >> 16) * 7919)); });
  CHECK(seen == 1000);
  t.destroy();
  CHECK(t.memory_bytes() == 0);
}

TEST(distinct_keys, "the same address in two VLANs, and addresses one bit apart in either word, are different keys") {
  Qsbr qsbr(1);
  NdTable t;
  CHECK(t.create("ndt_distinct", 256, qsbr.v, SOCKET_ID_ANY).ok());
  // One bit apart at each end of each word (hi bit 0 and 63, lo bit 0 and 63), and in VLANs 0,
  // 1 and 4094 (the highest a binding has) and 4095 (all twelve bits).
  const std::vector<NdKey> keys = {
      key_of(1, "2001:db8::1"),        key_of(1, "2101:db8::1"),     key_of(1, "2001:db8:0:80::1"),
      key_of(1, "2001:db8::1:0:0:1"),  key_of(1, "2001:db8::81"),    key_of(0, "2001:db8::1"),
      key_of(4094, "2001:db8::1"),     key_of(4095, "2001:db8::1"), key_of(1, "::"),
      key_of(0, "::"),                 key_of(1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")};
  for (size_t i = 0; i < keys.size(); i++) CHECK(t.put(keys[i], value_for(i, 1)) == NdTable::Put::added);
  CHECK(t.size() == keys.size());
  uint64_t v;
  for (size_t i = 0; i < keys.size(); i++) CHECK(t.lookup(keys[i], &v) && v == value_for(i, 1));
  // Each goes on its own: the others stay.
  for (size_t gone = 0; gone < keys.size(); gone++) {
    CHECK(t.remove(keys[gone], nullptr));
    for (size_t i = 0; i < keys.size(); i++) CHECK(t.lookup(keys[i], &v) == (i != gone));
    CHECK(t.put(keys[gone], value_for(gone, 2)) == NdTable::Put::added);
  }
  for (size_t i = 0; i < keys.size(); i++) CHECK(t.lookup(keys[i], &v) && v == value_for(i, 2));
  t.destroy();
}

TEST(same_bucket, "keys in the same bucket that differ in only one word or the VLAN are told apart") {
  Qsbr qsbr(1);
  NdTable t;
  CHECK(t.create("ndt_same_bucket", 64, qsbr.v, SOCKET_ID_ANY).ok());
  // For a first key, another one with the same home that differs only in its last word, one
  // that differs only in its first word, and one that differs only in the VLAN.
  const NdKey base = key_of(5, "2001:db8::10");
  const uint32_t h = NdTableInspect::home(t, base);
  NdKey other_lo = base, other_hi = base, other_vlan = base;
  for (uint64_t i = 1; NdTableInspect::home(t, other_lo) != h || other_lo.lo == base.lo; i++) other_lo.lo = base.lo + i;
  for (uint64_t i = 1; NdTableInspect::home(t, other_hi) != h || other_hi.hi == base.hi; i++) other_hi.hi = base.hi + i;
  for (uint16_t i = 1; NdTableInspect::home(t, other_vlan) != h || other_vlan.vlan == base.vlan; i++)
    other_vlan.vlan = static_cast<uint16_t>((base.vlan + i) % 4095);
  const NdKey keys[] = {base, other_lo, other_hi, other_vlan};
  // Each pair of them shares a bucket, the first put in slot 0: the second must not match it.
  for (size_t a = 0; a < 4; a++) {
    for (size_t b = 0; b < 4; b++) {
      if (a == b) continue;
      CHECK(t.put(keys[a], value_for(a, 1)) == NdTable::Put::added);
      uint64_t v = 0;
      CHECK(!t.lookup(keys[b], &v));
      CHECK(t.put(keys[b], value_for(b, 1)) == NdTable::Put::added);
      CHECK(NdTableInspect::distance(t, keys[a]) == 0 && NdTableInspect::distance(t, keys[b]) == 0);
      CHECK(t.lookup(keys[a], &v) && v == value_for(a, 1));
      CHECK(t.lookup(keys[b], &v) && v == value_for(b, 1));
      CHECK(t.remove(keys[a], nullptr));
      CHECK(!t.lookup(keys[a], &v) && t.lookup(keys[b], &v) && v == value_for(b, 1));
      CHECK(t.remove(keys[b], nullptr));
    }
  }
  CHECK(t.size() == 0);
  t.destroy();
}

TEST(probe_chains, "overflow counts follow keys past full buckets, across removals and the table's end") {
  Qsbr qsbr(1);
  NdTable t;
  CHECK(t.create("ndt_chain", 64, qsbr.v, SOCKET_ID_ANY).ok());
  CHECK(NdTableInspect::buckets(t) == 64);  // of 2 slots
  auto same_home = [&](uint32_t home, size_t n) {
    std::vector<NdKey> keys;
    for (uint32_t host = 1; keys.size() < n; host++)
      if (NdTableInspect::home(t, host_key(3, host)) == home) keys.push_back(host_key(3, host));
    return keys;
  };
  auto overflows = [&](uint32_t from, uint32_t n) {
    std::vector<uint64_t> counts;
    for (uint32_t i = 0; i < n; i++) counts.push_back(NdTableInspect::overflow(t, (from + i) % 64));
    return counts;
  };
  // Twelve keys with home 5: they fill it and the five buckets after it.
  const std::vector<NdKey> keys = same_home(5, 12);
  for (size_t i = 0; i < keys.size(); i++) CHECK(t.put(keys[i], value_for(i, 1)) == NdTable::Put::added);
  uint64_t v;
  for (size_t i = 0; i < keys.size(); i++) {
    CHECK(t.lookup(keys[i], &v) && v == value_for(i, 1));
    CHECK(NdTableInspect::distance(t, keys[i]) == int64_t(i / 2));
  }
  CHECK(overflows(4, 8) == (std::vector<uint64_t>{0, 10, 8, 6, 4, 2, 0, 0}));
  // Remove from the home bucket (no count changes) and from the middle of the chain (the two
  // buckets it passed over count one fewer).
  CHECK(t.remove(keys[1], nullptr));
  CHECK(t.remove(keys[5], nullptr));
  CHECK(overflows(4, 8) == (std::vector<uint64_t>{0, 9, 7, 6, 4, 2, 0, 0}));
  for (size_t i = 0; i < keys.size(); i++) CHECK(t.lookup(keys[i], &v) == (i != 1 && i != 5));
  // Once every overflowing key is gone, a miss stops at the home bucket again, and a new key
  // with that home takes the home bucket's free slot.
  for (size_t i = 2; i < keys.size(); i++)
    if (i != 5) CHECK(t.remove(keys[i], nullptr));
  CHECK(t.size() == 1);
  CHECK(overflows(4, 8) == (std::vector<uint64_t>(8, 0)));
  CHECK(t.lookup(keys[0], &v) && !t.lookup(keys[2], &v));
  const std::vector<NdKey> more = same_home(5, 14);
  CHECK(t.put(more[13], 7) == NdTable::Put::added);
  CHECK(NdTableInspect::distance(t, more[13]) == 0);
  // A chain from the last bucket wraps to the first.
  const std::vector<NdKey> last = same_home(63, 6);
  for (size_t i = 0; i < last.size(); i++) CHECK(t.put(last[i], value_for(i, 9)) == NdTable::Put::added);
  CHECK(overflows(62, 4) == (std::vector<uint64_t>{0, 4, 2, 0}));
  for (size_t i = 0; i < last.size(); i++) CHECK(t.lookup(last[i], &v) && v == value_for(i, 9));
  CHECK(NdTableInspect::distance(t, last[5]) == 2);
  for (const NdKey& k : last) CHECK(t.remove(k, nullptr));
  CHECK(overflows(62, 4) == (std::vector<uint64_t>(4, 0)));
  uint64_t seen = 0;
  t.for_each([&](const NdKey&, uint64_t) { seen++; });
  CHECK(seen == 2 && t.size() == 2);
  t.destroy();
}

TEST(pending_slots, "a removed slot keeps its address and is not reused before every reader has been quiescent") {
  Qsbr qsbr(1);
  rte_rcu_qsbr_thread_register(qsbr.v, 0);
  rte_rcu_qsbr_thread_online(qsbr.v, 0);
  NdTable t;
  CHECK(t.create("ndt_pending", 2, qsbr.v, SOCKET_ID_ANY).ok());  // 2 buckets, 4 slots
  // The reader never reports: each removed slot waits, so after four add-and-remove rounds no
  // slot is free although the table is empty.
  uint64_t added = 0;
  uint64_t v;
  for (uint32_t host = 100; host < 120; host++) {
    if (t.put(host_key(1, host), host) == NdTable::Put::added) added++;
    t.remove(host_key(1, host), nullptr);
    CHECK(!t.lookup(host_key(1, host), &v));
  }
  CHECK(added == 4);
  CHECK(t.size() == 0);
  CHECK(NdTableInspect::pending_holds(t, host_key(1, 100)));
  CHECK(t.put(host_key(1, 500), 500) == NdTable::Put::full);
  rte_rcu_qsbr_quiescent(qsbr.v, 0);
  CHECK(t.put(host_key(1, 500), 500) == NdTable::Put::added);
  CHECK(t.lookup(host_key(1, 500), &v) && v == 500);
  rte_rcu_qsbr_thread_offline(qsbr.v, 0);
  rte_rcu_qsbr_thread_unregister(qsbr.v, 0);
  t.destroy();
}

TEST(sizing, "buckets for at most half full, 64 bytes each, and a capacity too large refused") {
  Qsbr qsbr(1);
  NdTable t;
  CHECK(t.create("ndt_size", 65536, qsbr.v, SOCKET_ID_ANY).ok());
  CHECK(t.memory_bytes() == 65536 * 64);  // 64 bytes a binding at a power of two
  t.destroy();
  CHECK(t.create("ndt_size", 65537, qsbr.v, SOCKET_ID_ANY).ok());
  CHECK(t.memory_bytes() == 131072 * 64);
  t.destroy();
  CHECK(t.create("ndt_size", 0, qsbr.v, SOCKET_ID_ANY).ok());
  CHECK(t.memory_bytes() == 2 * 64);
  CHECK(t.put(host_key(1, 1), 1) == NdTable::Put::full);
  t.destroy();
  const Status too_big = t.create("ndt_size", 0xffffffffu, qsbr.v, SOCKET_ID_ANY);
  CHECK(!too_big.ok() && too_big.code == "TABLE_CREATE");
  CHECK(t.memory_bytes() == 0);
}

TEST(structured_sets_spread, "addresses that differ in their last bytes, or only in the VLAN, spread over the buckets") {
  Qsbr qsbr(1);
  // 2001:db8:0:X::Y for 256 X and 256 Y (the last byte of each word), and fe80::Y for 4096 Y in
  // 16 VLANs: a hash that only multiplies would put the first set in 256 buckets.
  std::vector<std::vector<NdKey>> sets(2);
  for (uint32_t x = 0; x < 256; x++) {
    for (uint32_t y = 0; y < 256; y++) {
      uint8_t addr[16] = {0x20, 0x01, 0x0d, 0xb8};
      addr[7] = static_cast<uint8_t>(x);
      addr[15] = static_cast<uint8_t>(y);
      sets[0].push_back(nd_key(7, addr));
    }
  }
  for (uint16_t vlan = 1; vlan <= 16; vlan++) {
    for (uint32_t y = 0; y < 4096; y++) {
      uint8_t addr[16] = {0xfe, 0x80};
      addr[14] = static_cast<uint8_t>(y >> 8);
      addr[15] = static_cast<uint8_t>(y);
      sets[1].push_back(nd_key(vlan, addr));
    }
  }
  for (const auto& keys : sets) {
    NdTable t;
    CHECK(t.create("ndt_spread", 65536, qsbr.v, SOCKET_ID_ANY).ok());
    for (size_t i = 0; i < keys.size(); i++) CHECK(t.put(keys[i], i) == NdTable::Put::added);
    uint64_t at_home = 0, longest = 0;
    for (const NdKey& k : keys) {
      const int64_t d = NdTableInspect::distance(t, k);
      CHECK(d >= 0);
      at_home += d == 0;
      longest = std::max<uint64_t>(longest, d);
    }
    std::printf("  # %zu keys: %.1f%% in their home bucket, longest probe %llu buckets\n", keys.size(),
                100.0 * at_home / keys.size(), static_cast<unsigned long long>(longest));
    // Random keys at this load: about 88% at home, the longest probe 11 to 16 buckets.
    CHECK(at_home * 100 >= keys.size() * 85);
    CHECK(longest <= 24);
    t.destroy();
  }
}

// The race's keys: index i in one of four VLANs; its address's first word one of eight, its
// last word one of many, each varying in its top byte (the address's 8th and 16th bytes). So
// many keys share an address in another VLAN, a first word or a last word.
NdKey race_key(uint64_t i) {
  const uint64_t j = i / 4;
  return NdKey{0x00000000b80d0120ull | (j % 8) << 56, 0x0000000000000001ull | (j / 8) << 56,
               static_cast<uint16_t>(100 + i % 4)};
}

struct RaceResult {
  uint64_t changes = 0, lookups = 0, wrong = 0, missed = 0;
};

// `readers` threads look up random keys of `keys` (as a worker does: prefetch a burst, then look
// each up, then report a quiescent state) while this thread, the writer, adds and removes random
// keys past the first `stable` for `ms` milliseconds. A hit whose value names another key is
// wrong; a miss of a stable key is missed.
RaceResult race(NdTable& t, rte_rcu_qsbr* qsbr, uint32_t readers, const std::vector<NdKey>& keys,
                uint64_t stable, int ms) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> wrong{0}, missed{0}, lookups{0};
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < readers; r++) {
    threads.emplace_back([&, r] {
      rte_rcu_qsbr_thread_register(qsbr, r);
      rte_rcu_qsbr_thread_online(qsbr, r);
      std::mt19937_64 rng(r + 1);
      uint64_t n = 0, w = 0, m = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        uint64_t idx[32];
        for (auto& i : idx) {
          i = rng() % keys.size();
          t.prefetch(keys[i]);
        }
        for (uint64_t i : idx) {
          uint64_t value;
          const bool hit = t.lookup(keys[i], &value);
          if (hit && (value >> 16) != i) w++;
          if (!hit && i < stable) m++;
        }
        n += 32;
        rte_rcu_qsbr_quiescent(qsbr, r);
      }
      lookups += n;
      wrong += w;
      missed += m;
      rte_rcu_qsbr_thread_offline(qsbr, r);
      rte_rcu_qsbr_thread_unregister(qsbr, r);
    });
  }
  std::mt19937_64 rng(99);
  RaceResult result;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1024; i++, result.changes++) {
      const uint64_t k = stable + rng() % (keys.size() - stable);
      if (rng() & 1) t.put(keys[k], value_for(k, result.changes));
      else t.remove(keys[k], nullptr);
    }
  }
  stop = true;
  for (auto& th : threads) th.join();
  result.lookups = lookups.load();
  result.wrong = wrong.load();
  result.missed = missed.load();
  std::printf("  # %llu changes, %llu lookups\n", static_cast<unsigned long long>(result.changes),
              static_cast<unsigned long long>(result.lookups));
  return result;
}

TEST(readers_race_one_writer, "readers racing one writer never see another key's value, nor miss a stable key") {
  constexpr uint32_t kReaders = 2;
  constexpr uint64_t kStable = 1024, kChurn = 6144;
  Qsbr qsbr(kReaders);
  NdTable t;
  CHECK(t.create("ndt_race", kStable + kChurn, qsbr.v, SOCKET_ID_ANY).ok());
  std::vector<NdKey> keys;
  for (uint64_t i = 0; i < kStable + kChurn; i++) keys.push_back(race_key(i));
  for (uint64_t i = 0; i < kStable; i++) CHECK(t.put(keys[i], value_for(i, 0)) == NdTable::Put::added);
  const RaceResult r = race(t, qsbr.v, kReaders, keys, kStable, 1500);
  CHECK(r.changes > 100000);
  CHECK(r.lookups > 100000);
  CHECK(r.wrong == 0);
  CHECK(r.missed == 0);
  t.destroy();
}

TEST(readers_race_one_writer_hot, "readers racing one writer through one chain of reused slots never see another key's value") {
  // Every key has the same home, in one VLAN, and there are twice as many as the table takes:
  // each slot is taken by one key after another, and each lookup compares most of them. This is
  // where a slot published before its address or value, or reused within a grace period, shows.
  constexpr uint32_t kReaders = 2;
  constexpr uint64_t kStable = 2, kKeys = 16;
  Qsbr qsbr(kReaders);
  NdTable t;
  CHECK(t.create("ndt_race_hot", 8, qsbr.v, SOCKET_ID_ANY).ok());  // 8 buckets of 2
  std::vector<NdKey> keys;
  for (uint32_t host = 1; keys.size() < kKeys; host++)
    if (NdTableInspect::home(t, host_key(1, host)) == 0) keys.push_back(host_key(1, host));
  for (uint64_t i = 0; i < kStable; i++) CHECK(t.put(keys[i], value_for(i, 0)) == NdTable::Put::added);
  const RaceResult r = race(t, qsbr.v, kReaders, keys, kStable, 1000);
  CHECK(r.changes > 100000);
  CHECK(r.lookups > 100000);
  CHECK(r.wrong == 0);
  CHECK(r.missed == 0);
  t.destroy();
}

}  // namespace

int main() {
  const std::string prefix = "microarp-ndt-" + std::to_string(getpid());
  const Status status = eal_init({"nd_table_tests", "--no-huge", "-m", "256", "--no-pci",
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
