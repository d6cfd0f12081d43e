// Forwarding database keys and entries: (VLAN, MAC) -> port, an 8-byte key word and an
// 8-byte value word.
#pragma once

#include <cstdint>
#include <cstring>

namespace microarp {

// (VLAN, MAC) as one 60-bit word: the MAC's six octets in frame order in bits 0-47 (one
// 8-byte load from the frame and a mask), the VLAN in bits 48-59.
inline uint64_t fdb_key(uint16_t vlan, const uint8_t mac[6]) {
  uint64_t word = 0;
  std::memcpy(&word, mac, 6);
  return word | (uint64_t(vlan) << 48);
}

// The same from a MAC followed by at least two more readable bytes (a frame's addresses).
inline uint64_t fdb_key_in_frame(uint16_t vlan, const uint8_t* mac) {
  uint64_t word;
  std::memcpy(&word, mac, 8);
  return (word & 0xFFFFFFFFFFFFull) | (uint64_t(vlan) << 48);
}

inline uint16_t fdb_key_vlan(uint64_t key) { return static_cast<uint16_t>(key >> 48); }
inline void fdb_key_mac(uint64_t key, uint8_t mac[6]) { std::memcpy(mac, &key, 6); }

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
