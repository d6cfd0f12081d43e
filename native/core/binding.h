// What the binding table stores: an 8-byte key word and an 8-byte value word per binding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace microarp {

constexpr uint16_t kMaxVlanId = 4094;

// (VLAN, IPv4) as one 44-bit word: the IP in network byte order as it sits in the frame (so
// the hot path builds a key with one load) in bits 0-31, the VLAN in bits 32-43.
inline uint64_t binding_key(uint16_t vlan, uint32_t ip_be) {
  return uint64_t(ip_be) | (uint64_t(vlan) << 32);
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

// Bit 56 of an IPv6 binding's data word: the address belongs to a router, so the NA that
// answers for it carries the R flag (RFC 4861 7.2.4).
constexpr uint64_t kBindingRouter = uint64_t(1) << 56;

inline uint8_t binding_source(uint64_t word) {
  return static_cast<uint8_t>(word >> kBindingSourceShift);
}

}  // namespace microarp
