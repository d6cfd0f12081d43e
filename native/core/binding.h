// What the binding table stores: keys and values small enough to live inside rte_hash itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace microarp {

constexpr uint16_t kMaxVlanId = 4094;

// (VLAN, IPv4) in 8 bytes. The IP stays in network byte order as it sits in the frame, so the
// hot path builds a key with one load; `reserved` must be zero or lookups miss.
struct BindingKey {
  uint32_t ip_be;
  uint16_t vlan;
  uint16_t reserved;
};
static_assert(sizeof(BindingKey) == 8, "BindingKey is hashed as 8 raw bytes");

inline BindingKey make_binding_key(uint16_t vlan, uint32_t ip_be) {
  BindingKey key;
  key.ip_be = ip_be;
  key.vlan = vlan;
  key.reserved = 0;
  return key;
}

// A MAC packed in the low 48 bits of the table's 8-byte data word, first octet lowest, so that
// storing the word writes the six octets in frame order. Replacing a binding is one atomic
// store of this word by the writer.
inline uint64_t pack_mac(const uint8_t mac[6]) {
  uint64_t word = 0;
  std::memcpy(&word, mac, 6);
  return word;
}

inline void unpack_mac(uint64_t word, uint8_t mac[6]) { std::memcpy(mac, &word, 6); }

// rte_hash's key comparison for 8-byte keys (BindingKey, FdbKey): one load each instead of
// the generic memcmp rte_hash falls back to for key sizes it has no routine for.
inline int equal_8_bytes(const void* a, const void* b, size_t) {
  uint64_t x, y;
  std::memcpy(&x, a, 8);
  std::memcpy(&y, b, 8);
  return x != y;
}

// Six bytes compared as a 4-byte and a 2-byte load: cheaper on the hot path than memcmp.
inline bool mac_equal(const uint8_t* a, const uint8_t* b) {
  uint32_t a4, b4;
  uint16_t a2, b2;
  std::memcpy(&a4, a, 4);
  std::memcpy(&b4, b, 4);
  std::memcpy(&a2, a + 4, 2);
  std::memcpy(&b2, b + 4, 2);
  return ((a4 ^ b4) | (a2 ^ b2)) == 0;
}

// Bits 48-55 of the data word: where the binding came from, so that a worker can tell a
// learned binding (worth refreshing) from a configured one without asking anyone.
enum class BindingSource : uint8_t { learned = 1, api = 2, configured = 3 };
constexpr unsigned kBindingSourceShift = 48;

inline uint64_t binding_word(const uint8_t mac[6], uint8_t source) {
  return pack_mac(mac) | (uint64_t(source) << kBindingSourceShift);
}

}  // namespace microarp
