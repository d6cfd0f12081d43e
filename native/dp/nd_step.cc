#include "nd_step.h"

#include <cstring>

#include "../core/arp_inspection.h"
#include "../core/binding.h"
#include "../core/nd_frame.h"
#include "port_security.h"

namespace microarp {
namespace {

constexpr uint8_t kSourceLearned = static_cast<uint8_t>(BindingSource::learned);

// A 64-bit name for (VLAN, IPv6 address) in the workers' table of recently reported senders.
uint64_t nd_sender_key(uint16_t vlan, const uint8_t* addr) {
  uint64_t hi, lo;
  std::memcpy(&hi, addr, 8);
  std::memcpy(&lo, addr + 8, 8);
  const uint64_t mixed = (hi * 0xC2B2AE3D27D4EB4Full) ^ (lo * 0x9E3779B97F4A7C15ull) ^ vlan;
  return mixed | (uint64_t(1) << 63);
}

void report_nd(WorkerContext& ctx, ArpEventKind kind, Violation v, bool enforced,
               uint16_t ingress, const uint8_t* frame, const ParsedFrame& parsed, uint16_t vlan) {
  const uint8_t* ip6 = frame + parsed.l3_offset;
  const uint8_t* msg = ip6 + kIpv6HeaderLen;
  NdEvent& e = ctx.nd_events_staged[ctx.nd_event_count++];
  std::memset(&e, 0, sizeof e);
  e.kind = kind;
  e.violation = static_cast<uint8_t>(v);
  e.port = ingress;
  e.vlan = vlan;
  e.icmp_type = msg[nd_field::type];
  if (parsed.cls == FrameClass::nd_na) e.flags = msg[nd_field::flags] & (kNaRouter | kNaSolicited | kNaOverride);
  if (parsed.cls == FrameClass::nd_dad) e.flags |= kNdEventDad;
  const uint8_t* claimed = nd_claimed_address(frame, parsed);
  std::memcpy(e.addr, claimed != nullptr ? claimed : ip6 + ip6_field::src, 16);
  if (parsed.cls == FrameClass::nd_ns || parsed.cls == FrameClass::nd_dad ||
      parsed.cls == FrameClass::nd_na || parsed.cls == FrameClass::nd_redirect)
    std::memcpy(e.target, msg + nd_field::target, 16);
  if (parsed.lladdr_offset != 0) {
    std::memcpy(e.lladdr, frame + parsed.lladdr_offset, 6);
    e.has_lladdr = 1;
  }
  std::memcpy(e.eth_src, frame + 6, 6);
  e.enforced = enforced;
}

}  // namespace

NdOutcome inspect_and_report_nd(WorkerContext& ctx, uint16_t ingress, rte_mbuf* m,
                                const uint8_t* frame, const ParsedFrame& parsed, uint16_t vlan,
                                bool claimed_found, uint64_t claimed_word, uint64_t now,
                                BurstTally& tally) {
  const PortSecurity& security = *ctx.ports[ingress].security.load(std::memory_order_acquire);
  if (!security.trusted) {
    PortRateLimits& limits = ctx.rate_limits[ingress].follow(security, ctx.worker_count, ctx.tsc_hz, now);
    Violation v = Violation::nd_rate_limited;
    if (limits.nd.take(now)) {
      v = inspect_nd(frame, parsed, security.router, claimed_found, claimed_word);
      // The port's IPv6 prefixes, as allowed_subnets' IPv4 ones are for ARP senders.
      const uint8_t* claimed = nd_claimed_address(frame, parsed);
      if (v == Violation::none && claimed != nullptr && !in_subnets6(security.inspection, claimed))
        v = Violation::sender_outside_subnet;
    }
    if (v != Violation::none) {
      tally.violation(v);
      if (ctx.violation_reports.take(now)) {
        report_nd(ctx, ArpEventKind::violation, v, security.enforce, ingress, frame, parsed, vlan);
      } else {
        tally.count(Counter::arp_events_suppressed);
      }
      if (!security.enforce) return NdOutcome::pass;
      rte_pktmbuf_free(m);
      tally.drop(DropReason::nd_inspection);
      return NdOutcome::consumed;
    }
  }

  // An advertisement to microarp's own probe address answers an aging probe.
  if (parsed.cls == FrameClass::nd_na && ctx.has_probe_mac && mac_equal(frame, ctx.probe_mac)) {
    report_nd(ctx, ArpEventKind::probe_reply, Violation::none, false, ingress, frame, parsed, vlan);
    rte_pktmbuf_free(m);
    tally.count(Counter::probe_replies);
    return NdOutcome::consumed;
  }

  // Learning candidates: a solicitation's source with its link-layer option, an
  // advertisement's target with its own. Reported as ARP senders are: unknown, learned (to
  // refresh) or disagreeing with the table, at most once a second (100 ms while unknown).
  const uint8_t* claimed = nd_claimed_address(frame, parsed);
  if (claimed == nullptr || parsed.lladdr_offset == 0) return NdOutcome::pass;
  bool disagrees = false;
  if (claimed_found) {
    uint8_t owner[6];
    unpack_mac(claimed_word, owner);
    disagrees = !mac_equal(owner, frame + parsed.lladdr_offset);
  }
  bool worth = !claimed_found || disagrees || binding_source(claimed_word) == kSourceLearned;
  if (worth && !disagrees && !report_due(ctx, nd_sender_key(vlan, claimed), claimed_found, now)) {
    tally.count(Counter::sender_reports_skipped);
    worth = false;
  }
  if (worth) {
    if (ctx.sender_reports.take(now)) {
      report_nd(ctx, ArpEventKind::sender, Violation::none, false, ingress, frame, parsed, vlan);
    } else {
      tally.count(Counter::arp_events_suppressed);
    }
  }
  return NdOutcome::pass;
}

NdOutcome respond_to_solicitation(WorkerContext& ctx, uint16_t ingress, rte_mbuf* m,
                                  const ParsedFrame& parsed, bool found, uint64_t owner_word,
                                  BurstTally& tally) {
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  const SolicitationVerdict verdict = decide_solicitation(frame, parsed, found, owner_word);
  switch (verdict) {
    case SolicitationVerdict::answer:
    case SolicitationVerdict::defend: {
      // The advertisement is written over the first segment; a chained solicitation (never
      // seen from a real host: it is under 100 bytes) is switched unanswered.
      if (m->nb_segs != 1) return NdOutcome::pass;
      const bool defend = verdict == SolicitationVerdict::defend;
      const uint32_t capacity = rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m);
      const uint32_t length =
          rewrite_solicitation_into_advertisement(frame, capacity, parsed, owner_word, defend);
      if (length == 0) {
        rte_pktmbuf_free(m);
        tally.drop(DropReason::no_mbuf);
        return NdOutcome::consumed;
      }
      m->data_len = static_cast<uint16_t>(length);
      m->pkt_len = length;
      tally.count(defend ? Counter::nd_dad_defended : Counter::nd_answers);
      stage_tx(ctx, ingress, m);
      return NdOutcome::consumed;
    }
    case SolicitationVerdict::own_address:
      tally.count(Counter::nd_own_address);
      return NdOutcome::pass;
    case SolicitationVerdict::unbound:
      tally.count(Counter::nd_unbound);
      if (!ctx.drop_unbound) return NdOutcome::pass;
      rte_pktmbuf_free(m);
      tally.drop(DropReason::unbound_target);
      return NdOutcome::consumed;
  }
  return NdOutcome::pass;
}

}  // namespace microarp
