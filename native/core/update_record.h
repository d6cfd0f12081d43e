// The fixed-size record that carries one table update from the control side to the writer.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

namespace microarp {

enum class UpdateOp : uint8_t {
  upsert = 1,          // binding (vlan, ip) -> mac
  remove = 2,          // binding (vlan, ip)
  fdb_static_add = 3,  // FDB (vlan, mac) -> port, never aged; the port index rides in ip_be
  fdb_remove = 4,      // FDB (vlan, mac)
};

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
  uint16_t reserved2;
};
static_assert(sizeof(UpdateRecord) == 24, "ring element size must stay a multiple of 4");

// The packed form TypeScript hands to the addon: 16 bytes per update, no pointers.
//   [0]    op (1 = upsert, 2 = remove)
//   [1]    source rank for upsert (1 learned, 2 api, 3 static)
//   [2..3] vlan, little endian
//   [4..7] IPv4 in network byte order (FDB ops: the port index, little endian)
//   [8..13] MAC (ignored for remove)
//   [14..15] reserved (0)
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
  return record;
}

}  // namespace microarp
