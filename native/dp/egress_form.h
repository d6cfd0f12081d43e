// A frame put into the form its egress port wants: a tag pushed into the headroom, or popped.
// On the worker's path, and called as it is by the vlan_tag fuzz target.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "../core/frame.h"
#include "../core/vlan_policy.h"

namespace microarp {

// Puts `m` (not shared) into `form` for `vlan`. False if there was no headroom for a tag.
inline bool set_form(rte_mbuf* m, bool tagged_now, EgressForm form, uint16_t vlan) {
  const bool want_tag = form == EgressForm::tagged;
  if (want_tag == tagged_now) return true;
  if (want_tag) {
    uint8_t* start = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kVlanTagLen));
    if (start == nullptr) return false;
    vlan_push_after_prepend(start, vlan);
  } else {
    vlan_pop_before_adj(rte_pktmbuf_mtod(m, uint8_t*));
    rte_pktmbuf_adj(m, kVlanTagLen);
  }
  return true;
}

}  // namespace microarp
