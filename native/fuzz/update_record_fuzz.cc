// Fuzz target: the decoder of the packed table updates that cross the addon boundary
// (unpack_update, native/core/update_record.h), and the table words the writer derives from a
// record (BindingTable::apply, Fdb::apply_static).
//
// Input: any bytes, read as consecutive 16-byte records (a trailing part record is ignored, as
// applyUpdates refuses it). Every record decodes exactly as the layout in update_record.h says.
// For the records the control side can produce (op 1-4, VLAN 0-4094), the keys the writer makes
// must fit the table's 60 bits and give back the VLAN, IP and MAC they were made from, and the
// value words must give back the MAC, the source rank and the port.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "binding.h"
#include "fdb_entry.h"
#include "fuzz_check.h"
#include "update_record.h"

using namespace microarp;

namespace {

constexpr uint64_t kTableKeyLimit = uint64_t(1) << 60;  // FlatTable::kKeyBits

void check_record(const uint8_t* p) {
  UpdateResult result;
  const UpdateRecord r = unpack_update(p, &result);
  FUZZ_CHECK(r.result == &result);
  FUZZ_CHECK(static_cast<uint8_t>(r.op) == p[0]);
  FUZZ_CHECK(r.source == p[1]);
  FUZZ_CHECK(r.vlan == (p[2] | p[3] << 8));
  if (is_ipv6_op(r.op)) {
    // The first record of an IPv6 op: flags in [4], the address in the next record.
    FUZZ_CHECK(r.ip_be == 0 && r.flags == p[4]);
  } else {
    FUZZ_CHECK(std::memcmp(&r.ip_be, p + 4, 4) == 0);
  }
  FUZZ_CHECK(std::memcmp(r.mac, p + 8, 6) == 0);

  const bool produced_by_control_side = p[0] >= 1 && p[0] <= 4 && r.vlan <= kMaxVlanId;
  if (!produced_by_control_side) return;
  switch (r.op) {
    case UpdateOp::upsert:
    case UpdateOp::remove: {
      const uint64_t key = binding_key(r.vlan, r.ip_be);
      FUZZ_CHECK(key < kTableKeyLimit);
      FUZZ_CHECK(static_cast<uint32_t>(key) == r.ip_be && (key >> 32) == r.vlan);
      const uint64_t word = binding_word(r.mac, r.source);
      uint8_t mac[6];
      unpack_mac(word, mac);
      FUZZ_CHECK(std::memcmp(mac, p + 8, 6) == 0);
      FUZZ_CHECK((word >> kBindingSourceShift) == r.source);
      break;
    }
    case UpdateOp::fdb_static_add:
    case UpdateOp::fdb_remove: {
      const uint64_t key = fdb_key(r.vlan, r.mac);
      FUZZ_CHECK(key < kTableKeyLimit);
      FUZZ_CHECK(fdb_key_vlan(key) == r.vlan);
      uint8_t mac[6];
      fdb_key_mac(key, mac);
      FUZZ_CHECK(std::memcmp(mac, p + 8, 6) == 0);
      // The port index rides in the IP's bytes, little endian (updates.ts packUpdates).
      const uint16_t port = static_cast<uint16_t>(r.ip_be);
      FUZZ_CHECK(port == (p[4] | p[5] << 8));
      const FdbEntry e = unpack_fdb_entry(pack_fdb_entry({port, true, static_cast<uint16_t>(r.vlan)}));
      FUZZ_CHECK(e.port == port && e.is_static && e.epoch == r.vlan);
      break;
    }
    case UpdateOp::none:
    case UpdateOp::upsert6:
    case UpdateOp::remove6:
      break;  // not reached: ops 1-4 only (the IPv6 ops span two records)
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (size_t at = 0; at + kPackedUpdateSize <= size; at += kPackedUpdateSize) check_record(data + at);
  return 0;
}
