// The fixed-size record that carries one table update from the control side to the writer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace microarp {

enum class UpdateOp : uint8_t {
  none = 0,            // ignored (an IPv6 op that came without its address)
  upsert = 1,          // binding (vlan, ip) -> mac
  remove = 2,          // binding (vlan, ip)
  fdb_static_add = 3,  // FDB (vlan, mac) -> port, never aged; the port index rides in ip_be
  fdb_remove = 4,      // FDB (vlan, mac)
  upsert6 = 5,         // binding (vlan, ipv6) -> mac; the address is in the next record
  remove6 = 6,         // binding (vlan, ipv6); the address is in the next record
};

inline bool is_ipv6_op(UpdateOp op) { return op == UpdateOp::upsert6 || op == UpdateOp::remove6; }

// UpdateRecord::flags
constexpr uint8_t kUpdateRouter = 0x01;  // upsert6: the address is a router's (NA R flag)

// Filled in by the writer only; the submitter reads it after it has seen every record of its
// batch applied (an acquire on the writer's applied count), so plain fields are enough.
struct UpdateResult {
  uint64_t added = 0;
  uint64_t replaced = 0;
  uint64_t unchanged = 0;
  uint64_t removed = 0;
  uint64_t missing = 0;      // remove of a binding that was not there
  uint64_t table_full = 0;   // upsert refused: table at its configured capacity
};

struct UpdateRecord {
  UpdateResult* result;  // the batch this record belongs to
  uint32_t ip_be;
  uint16_t vlan;
  UpdateOp op;
  uint8_t source;  // upsert: the binding's source rank, kept in the table's data word
  uint8_t mac[6];
  uint8_t flags;
  uint8_t reserved2;
};
static_assert(sizeof(UpdateRecord) == 24, "ring element size must stay a multiple of 4");

// An IPv6 op is two records: the op's, then one whose 16 bytes after `result` are the address
// (the ring element stays 24 bytes, so IPv4 updates cost no more ring space than before).
constexpr size_t kAddressRecordOffset = offsetof(UpdateRecord, ip_be);
static_assert(sizeof(UpdateRecord) - kAddressRecordOffset == 16, "an IPv6 address fills the rest");

inline UpdateRecord address_record(const uint8_t addr[16], UpdateResult* result) {
  UpdateRecord record = {};
  record.result = result;
  std::memcpy(reinterpret_cast<uint8_t*>(&record) + kAddressRecordOffset, addr, 16);
  return record;
}

inline void record_address(const UpdateRecord& record, uint8_t addr[16]) {
  std::memcpy(addr, reinterpret_cast<const uint8_t*>(&record) + kAddressRecordOffset, 16);
}

// The packed form TypeScript hands to the addon: 16 bytes per update, no pointers.
//   [0]    op (1 = upsert, 2 = remove)
//   [1]    source rank for upsert (1 learned, 2 api, 3 static)
//   [2..3] vlan, little endian
//   [4..7] IPv4 in network byte order (FDB ops: the port index, little endian)
//   [8..13] MAC (ignored for remove)
//   [14..15] reserved (0)
// IPv6 ops (5 upsert6, 6 remove6) take two packed records: the first as above with the
// address bytes [4..7] replaced by flags in [4] (bit 0: router), the second the 16 address
// bytes in network order.
constexpr unsigned kPackedUpdateSize = 16;

// Reads one packed update (kPackedUpdateSize bytes at `p`) into the writer's record.
inline UpdateRecord unpack_update(const uint8_t* p, UpdateResult* result) {
  UpdateRecord record = {};
  record.result = result;
  record.op = static_cast<UpdateOp>(p[0]);
  record.source = p[1];
  record.vlan = static_cast<uint16_t>(p[2] | p[3] << 8);
  std::memcpy(&record.ip_be, p + 4, 4);
  std::memcpy(record.mac, p + 8, 6);
  if (is_ipv6_op(record.op)) {
    record.ip_be = 0;
    record.flags = p[4];
  }
  return record;
}

}  // namespace microarp
