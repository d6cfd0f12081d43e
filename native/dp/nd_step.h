// The workers' Neighbor Discovery step: inspection on untrusted ports (RA guard, link-layer
// address options, addresses bound to another MAC), reports to the control side (learning
// candidates, replies to microarp's probes), and the answer to a solicitation, written in
// place over it. The worker calls it with the table's answers it looked up for the burst.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "../core/frame.h"
#include "lcore_stats.h"
#include "worker.h"

namespace microarp {

enum class NdOutcome : uint8_t { pass, consumed };

// Inspection and reports for any ND frame. `claimed_found`/`claimed_word`: the table's
// answer for the address the message speaks for (nd_claimed_address). Consumes `m` (and
// returns consumed) when it is dropped in enforce mode or is a reply to microarp's own probe.
NdOutcome inspect_and_report_nd(WorkerContext& ctx, uint16_t ingress, rte_mbuf* m,
                                const uint8_t* frame, const ParsedFrame& parsed, uint16_t vlan,
                                bool claimed_found, uint64_t claimed_word, uint64_t now,
                                BurstTally& tally);

// A solicitation (nd_ns or nd_dad) against the table's answer for its target: answered in place
// and staged on the ingress port, or dropped by 'unknown: drop' (both: consumed), or passed on
// to be switched (its own address, or unbound under 'unknown: flood').
NdOutcome respond_to_solicitation(WorkerContext& ctx, uint16_t ingress, rte_mbuf* m,
                                  const ParsedFrame& parsed, bool found, uint64_t owner_word,
                                  BurstTally& tally);

}  // namespace microarp
