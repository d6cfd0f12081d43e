// A worker's memory of the sources it checked lately: for a frame's (ingress port, VLAN, source
// MAC, ARP sender IP), what the binding table said about the sender and that the FDB needs
// nothing more about the source this second. A host sends many frames between two changes of
// either table; the repeats then cost one lookup in this worker-private array (which stays in
// the core's cache) instead of two in the shared tables.
//
// An entry holds only while neither table has changed since it was filled (each has a
// generation its writer bumps on every change) and the FDB's aging second is the same: a
// binding added, removed or moved, or a MAC learned, moved or aged anywhere, makes every entry
// stale at once. Two-way set associative, one cache line per set, most recently filled first:
// a miss only costs the lookups the cache saves.
#pragma once

#include <cstdint>

namespace microarp {

// The tables' state a burst was looked up in, read once per burst before its lookups.
struct TablesSeen {
  uint32_t table_generation;
  uint32_t fdb_generation;
  uint16_t fdb_epoch;
};

class SourceCache {
 public:
  static constexpr uint32_t kSets = 4096;  // x 2 ways x 32 bytes = 256 KiB: stays in a core's L2

  struct Entry {
    uint64_t source_key = ~uint64_t(0);  // fdb_key() of the source MAC; never a real key
    uint64_t sender_word = 0;            // the sender's binding word, when sender_found
    uint32_t sender_ip_be = 0;           // 0: not an ARP frame with a sender
    uint32_t table_generation = 0;
    uint32_t fdb_generation = 0;
    uint16_t fdb_epoch = 0;
    uint8_t port = 0;
    uint8_t sender_found = 0;
  };
  static_assert(sizeof(Entry) == 32, "a set of two entries is one cache line");

  // Starts loading the set a source is kept in, for a find() a little later.
  void prefetch(uint64_t source_key, uint32_t sender_ip_be) const {
    __builtin_prefetch(&sets_[set_of(source_key, sender_ip_be)]);
  }

  // The entry that holds for this source, or nullptr. Valid until the next remember(), which
  // may refill it for another source: a caller that needs the answer later copies it.
  const Entry* find(uint64_t source_key, uint32_t sender_ip_be, uint16_t port,
                    const TablesSeen& seen) const {
    const Set& set = sets_[set_of(source_key, sender_ip_be)];
    for (const Entry& e : set.way) {
      if (holds(e, source_key, sender_ip_be, port, seen)) return &e;
    }
    return nullptr;
  }

  // Remembers a source just checked against the tables, as the set's most recent entry.
  void remember(uint64_t source_key, uint32_t sender_ip_be, uint16_t port, const TablesSeen& seen,
                bool sender_found, uint64_t sender_word) {
    Set& set = sets_[set_of(source_key, sender_ip_be)];
    const Entry& first = set.way[0];
    if (first.source_key != source_key || first.sender_ip_be != sender_ip_be) set.way[1] = first;
    Entry& e = set.way[0];
    e.source_key = source_key;
    e.sender_ip_be = sender_ip_be;
    e.port = static_cast<uint8_t>(port);
    e.table_generation = seen.table_generation;
    e.fdb_generation = seen.fdb_generation;
    e.fdb_epoch = seen.fdb_epoch;
    e.sender_found = sender_found;
    e.sender_word = sender_word;
  }

 private:
  static constexpr unsigned kSetBits = 12;
  static_assert((1u << kSetBits) == kSets, "sets index by the hash's top bits");

  struct alignas(64) Set {
    Entry way[2];
  };

  static uint32_t set_of(uint64_t source_key, uint32_t sender_ip_be) {
    const uint64_t mixed = (source_key ^ (uint64_t(sender_ip_be) << 17)) * 0x9E3779B97F4A7C15ull;
    return static_cast<uint32_t>(mixed >> (64 - kSetBits));
  }

  static bool holds(const Entry& e, uint64_t source_key, uint32_t sender_ip_be, uint16_t port,
                    const TablesSeen& seen) {
    return e.source_key == source_key && e.sender_ip_be == sender_ip_be && e.port == port &&
           e.table_generation == seen.table_generation &&
           e.fdb_generation == seen.fdb_generation && e.fdb_epoch == seen.fdb_epoch;
  }

  Set sets_[kSets];
};

}  // namespace microarp
