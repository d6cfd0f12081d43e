// A worker's memory of the sources it checked lately: for a frame's (ingress port, VLAN, source
// MAC, ARP sender IP), what the binding table said about the sender and that the FDB needs
// nothing more about the source this second. A host sends many frames between two changes of
// either table; the repeats then cost one lookup in this worker-private array (which stays in
// the core's cache) instead of two in the shared tables.
//
// An entry holds only while neither table has changed since it was filled (each has a
// generation its writer bumps on every change) and the FDB's aging second is the same: a
// binding added, removed or moved, or a MAC learned, moved or aged anywhere, makes every entry
// stale at once. Direct-mapped: a collision only costs the lookups the cache saves.
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
  static constexpr uint32_t kSlots = 8192;  // 256 KiB: stays in a core's L2

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
  static_assert(sizeof(Entry) == 32, "two entries per cache line");

  Entry& slot(uint64_t source_key, uint32_t sender_ip_be) {
    const uint64_t mixed = (source_key ^ (uint64_t(sender_ip_be) << 17)) * 0x9E3779B97F4A7C15ull;
    return entries_[mixed >> (64 - kSlotBits)];
  }

  static bool holds(const Entry& e, uint64_t source_key, uint32_t sender_ip_be, uint16_t port,
                    const TablesSeen& seen) {
    return e.source_key == source_key && e.sender_ip_be == sender_ip_be && e.port == port &&
           e.table_generation == seen.table_generation &&
           e.fdb_generation == seen.fdb_generation && e.fdb_epoch == seen.fdb_epoch;
  }

  static void fill(Entry& e, uint64_t source_key, uint32_t sender_ip_be, uint16_t port,
                   const TablesSeen& seen, bool sender_found, uint64_t sender_word) {
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
  static constexpr unsigned kSlotBits = 13;
  static_assert((1u << kSlotBits) == kSlots, "slots index by the hash's top bits");
  Entry entries_[kSlots];
};

}  // namespace microarp
