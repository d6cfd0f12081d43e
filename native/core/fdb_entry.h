// Forwarding database keys and entries: (VLAN, MAC) -> port, small enough for rte_hash's key
// and 8-byte data word.
#pragma once

#include <cstdint>
#include <cstring>

namespace microarp {

struct FdbKey {
  uint8_t mac[6];
  uint16_t vlan;
};
static_assert(sizeof(FdbKey) == 8, "FdbKey is hashed as 8 raw bytes");

inline FdbKey make_fdb_key(uint16_t vlan, const uint8_t mac[6]) {
  FdbKey key;
  std::memcpy(key.mac, mac, 6);
  key.vlan = vlan;
  return key;
}

// The data word: port index in bits 0-15, static flag in bit 16, the aging epoch (seconds, as
// the writer counts them) in bits 32-47. The writer replaces the whole word atomically.
struct FdbEntry {
  uint16_t port;
  bool is_static;
  uint16_t epoch;
};

inline uint64_t pack_fdb_entry(FdbEntry e) {
  return uint64_t(e.port) | (uint64_t(e.is_static) << 16) | (uint64_t(e.epoch) << 32);
}

inline FdbEntry unpack_fdb_entry(uint64_t word) {
  return FdbEntry{static_cast<uint16_t>(word), ((word >> 16) & 1) != 0,
                  static_cast<uint16_t>(word >> 32)};
}

inline bool is_unicast_mac(const uint8_t mac[6]) {
  return (mac[0] & 1) == 0 && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) != 0;
}

// What a worker reports about a source MAC it saw (fixed size, one ring slot).
struct LearnRecord {
  uint8_t mac[6];
  uint16_t vlan;
  uint16_t port;
  uint16_t reserved;
  uint32_t reserved2;
};
static_assert(sizeof(LearnRecord) == 16, "ring element size must stay a multiple of 4");

enum class FdbEventType : uint8_t { learned = 1, moved = 2, aged = 3, static_added = 4, removed = 5, overflow = 6 };

// What the writer reports to the control side.
struct FdbEvent {
  FdbEventType type;
  uint8_t reserved;
  uint16_t vlan;
  uint16_t port;
  uint16_t old_port;
  uint8_t mac[6];
  uint16_t reserved2;
};
static_assert(sizeof(FdbEvent) == 16, "ring element size must stay a multiple of 4");

}  // namespace microarp
