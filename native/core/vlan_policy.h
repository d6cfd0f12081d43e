// Which VLANs a port carries and how: access (one VLAN, untagged), trunk (a set of VLANs,
// tagged, optionally one native VLAN untagged), or "all" (every VLAN tagged, untagged frames
// are VLAN 0: the behaviour of a port with no mode). Pure: unit-tested on its own.
#pragma once

#include <cstdint>
#include <cstring>

namespace microarp {

enum class PortMode : uint8_t { all = 0, access = 1, trunk = 2 };

// How a frame of some VLAN leaves a port.
enum class EgressForm : uint8_t { none, untagged, tagged };

struct VlanPolicy {
  PortMode mode = PortMode::all;
  uint16_t access_vlan = 0;  // access
  uint16_t native_vlan = 0;  // trunk; 0 = none: untagged frames are dropped
  uint64_t allowed[64] = {};  // trunk: bit v set = VLAN v carried

  bool allows(uint16_t vlan) const { return (allowed[vlan >> 6] >> (vlan & 63)) & 1; }
  void allow(uint16_t vlan) { allowed[vlan >> 6] |= uint64_t(1) << (vlan & 63); }
};

constexpr int kNotAdmitted = -1;

// The VLAN a received frame belongs to inside microarp, or kNotAdmitted. A tag with VLAN id 0
// (priority tag) counts as untagged.
inline int ingress_vlan(const VlanPolicy& p, bool tagged, uint16_t tag_vlan) {
  const bool untagged = !tagged || tag_vlan == 0;
  switch (p.mode) {
    case PortMode::all:
      return untagged ? 0 : tag_vlan;
    case PortMode::access:
      return untagged ? p.access_vlan : kNotAdmitted;
    case PortMode::trunk:
      if (untagged) return p.native_vlan ? p.native_vlan : kNotAdmitted;
      return p.allows(tag_vlan) ? tag_vlan : kNotAdmitted;
  }
  return kNotAdmitted;
}

inline EgressForm egress_form(const VlanPolicy& p, uint16_t vlan) {
  switch (p.mode) {
    case PortMode::all:
      return vlan == 0 ? EgressForm::untagged : EgressForm::tagged;
    case PortMode::access:
      return vlan == p.access_vlan ? EgressForm::untagged : EgressForm::none;
    case PortMode::trunk:
      if (!p.allows(vlan)) return EgressForm::none;
      return vlan == p.native_vlan ? EgressForm::untagged : EgressForm::tagged;
  }
  return EgressForm::none;
}

// Tag surgery on a frame's bytes. The mbuf layer moves the data start; these move the MACs.
// After 4 bytes were prepended: `frame` is the new start, the old frame begins at frame + 4.
inline void vlan_push_after_prepend(uint8_t* frame, uint16_t vlan) {
  std::memmove(frame, frame + 4, 12);
  frame[12] = 0x81;
  frame[13] = 0x00;
  frame[14] = static_cast<uint8_t>((vlan >> 8) & 0x0F);
  frame[15] = static_cast<uint8_t>(vlan);
}

// Before the first 4 bytes are trimmed: moves the MACs over the tag.
inline void vlan_pop_before_adj(uint8_t* frame) { std::memmove(frame + 4, frame, 12); }

// Writes `vlan` into the tag of a tagged frame, keeping the tag's priority and DEI bits.
inline void vlan_set_id(uint8_t* frame, uint16_t vlan) {
  frame[14] = static_cast<uint8_t>((frame[14] & 0xF0) | ((vlan >> 8) & 0x0F));
  frame[15] = static_cast<uint8_t>(vlan);
}

}  // namespace microarp
