// N-API surface of the engine. Thin on purpose: TypeScript validates every argument first
// (src/dataplane/), this file only converts types, maps Status to JS errors with a `code`,
// and keeps update batches off the event loop.
#include <napi.h>

#include <atomic>
#include <cstring>
#include <chrono>
#include <thread>

#include "../core/counters.h"
#include "../dp/dataplane.h"

namespace microarp {
namespace {

// EAL is once per process, so is the engine.
Dataplane g_dataplane;
std::atomic<int> g_updates_in_flight{0};

Napi::Value throw_status(Napi::Env env, const Status& status) {
  Napi::Error error = Napi::Error::New(env, status.message);
  error.Set("code", Napi::String::New(env, status.code));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value throw_type(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

uint32_t get_u32(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

// A port's rate limit from two of its keys; absent: no limit.
RateLimit get_rate(const Napi::Object& o, const char* pps_key, const char* burst_key) {
  RateLimit rate;
  rate.pps = get_u32(o, pps_key, 0);
  rate.burst = get_u32(o, burst_key, 0);
  return rate;
}

// A port's sender subnets, [{network, length}] with the network in host order; false if the
// value is not such a list or is too long.
bool read_subnets(const Napi::Value& value, InspectionPolicy& inspection) {
  inspection = InspectionPolicy{};
  if (value.IsUndefined() || value.IsNull()) return true;
  if (!value.IsArray()) return false;
  Napi::Array subnets = value.As<Napi::Array>();
  if (subnets.Length() > kMaxPortSubnets) return false;
  for (uint32_t k = 0; k < subnets.Length(); k++) {
    if (!subnets.Get(k).IsObject()) return false;
    Napi::Object sn = subnets.Get(k).As<Napi::Object>();
    const uint32_t len = get_u32(sn, "length", 32);
    if (len > 32) return false;
    const uint32_t mask = len == 0 ? 0 : ~uint32_t(0) << (32 - len);
    inspection.net[k] = get_u32(sn, "network", 0) & mask;
    inspection.mask[k] = mask;
  }
  inspection.subnet_count = static_cast<uint8_t>(subnets.Length());
  return true;
}

// [{bytes: number[16], length}]: the IPv6 prefixes ND inspection checks claimed addresses against.
bool read_subnets6(const Napi::Value& value, InspectionPolicy& inspection) {
  inspection.subnet6_count = 0;
  if (value.IsUndefined() || value.IsNull()) return true;
  if (!value.IsArray()) return false;
  Napi::Array subnets = value.As<Napi::Array>();
  if (subnets.Length() > kMaxPortSubnets) return false;
  for (uint32_t k = 0; k < subnets.Length(); k++) {
    if (!subnets.Get(k).IsObject()) return false;
    Napi::Object sn = subnets.Get(k).As<Napi::Object>();
    const uint32_t len = get_u32(sn, "length", 128);
    Napi::Value bytes = sn.Get("bytes");
    if (len > 128 || !bytes.IsArray() || bytes.As<Napi::Array>().Length() != 16) return false;
    for (uint32_t b = 0; b < 16; b++) {
      const uint32_t bit = b * 8;
      uint32_t byte = bytes.As<Napi::Array>().Get(b).ToNumber().Uint32Value() & 0xFF;
      // Host bits cleared, so the compare in in_subnets6 needs no mask past the prefix.
      if (bit >= len) byte = 0;
      else if (bit + 8 > len) byte &= 0xFF00 >> (len - bit);
      inspection.net6[k][b] = static_cast<uint8_t>(byte);
    }
    inspection.length6[k] = static_cast<uint8_t>(len);
  }
  inspection.subnet6_count = static_cast<uint8_t>(subnets.Length());
  return true;
}

bool read_config(const Napi::Object& o, DataplaneConfig& config) {
  Napi::Value eal = o.Get("ealArgs");
  Napi::Value ports = o.Get("ports");
  if (!eal.IsArray() || !ports.IsArray()) return false;
  Napi::Array eal_array = eal.As<Napi::Array>();
  for (uint32_t i = 0; i < eal_array.Length(); i++) {
    Napi::Value a = eal_array.Get(i);
    if (!a.IsString()) return false;
    config.eal_args.push_back(a.As<Napi::String>().Utf8Value());
  }
  Napi::Array port_array = ports.As<Napi::Array>();
  for (uint32_t i = 0; i < port_array.Length(); i++) {
    Napi::Value p = port_array.Get(i);
    if (!p.IsObject()) return false;
    Napi::Object port = p.As<Napi::Object>();
    if (!port.Get("name").IsString() || !port.Get("device").IsString()) return false;
    PortSpec spec;
    spec.name = port.Get("name").As<Napi::String>().Utf8Value();
    spec.device = port.Get("device").As<Napi::String>().Utf8Value();
    const std::string mode = port.Get("mode").IsString() ? port.Get("mode").As<Napi::String>().Utf8Value() : "all";
    spec.policy.mode = mode == "access" ? PortMode::access : mode == "trunk" ? PortMode::trunk : PortMode::all;
    spec.policy.access_vlan = static_cast<uint16_t>(get_u32(port, "vlan", 0));
    spec.policy.native_vlan = static_cast<uint16_t>(get_u32(port, "nativeVlan", 0));
    if (port.Get("vlans").IsArray()) {
      Napi::Array vlans = port.Get("vlans").As<Napi::Array>();
      for (uint32_t v = 0; v < vlans.Length(); v++) {
        if (!vlans.Get(v).IsNumber()) return false;
        spec.policy.allow(static_cast<uint16_t>(vlans.Get(v).As<Napi::Number>().Uint32Value() & 0xFFF));
      }
    }
    spec.admin_up = !port.Get("adminUp").IsBoolean() || port.Get("adminUp").ToBoolean().Value();
    spec.responder_on = !port.Get("responder").IsBoolean() || port.Get("responder").ToBoolean().Value();
    spec.trusted = port.Get("trusted").ToBoolean().Value();
    spec.router = port.Get("router").ToBoolean().Value();
    spec.arp_rate = get_rate(port, "arpRatePps", "arpBurst");
    spec.nd_rate = get_rate(port, "ndRatePps", "ndBurst");
    if (!read_subnets(port.Get("subnets"), spec.inspection)) return false;
    if (!read_subnets6(port.Get("subnets6"), spec.inspection)) return false;
    config.ports.push_back(spec);
  }
  config.rx_descriptors = static_cast<uint16_t>(get_u32(o, "rxDescriptors", 1024));
  config.tx_descriptors = static_cast<uint16_t>(get_u32(o, "txDescriptors", 1024));
  config.mbufs = get_u32(o, "mbufs", 0);
  config.table_capacity = get_u32(o, "tableCapacity", 1u << 20);
  config.table_ipv6_capacity = get_u32(o, "tableIpv6Capacity", 1u << 16);
  config.update_ring_size = get_u32(o, "updateRingSize", 1u << 16);
  config.drop_unbound = o.Get("dropUnbound").ToBoolean().Value();
  config.enable_pdump = !o.Get("pdump").IsBoolean() || o.Get("pdump").ToBoolean().Value();
  config.fdb_capacity = get_u32(o, "fdbCapacity", 1u << 16);
  config.fdb_aging_seconds = get_u32(o, "fdbAgingSeconds", 300);
  config.enforce = !o.Get("enforce").IsBoolean() || o.Get("enforce").ToBoolean().Value();
  if (o.Get("probeMac").IsTypedArray()) {
    Napi::Uint8Array mac = o.Get("probeMac").As<Napi::Uint8Array>();
    if (mac.ByteLength() != 6) return false;
    std::memcpy(config.probe_mac, mac.Data(), 6);
    config.has_probe_mac = true;
  }
  return true;
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return throw_type(env, "init(config) expects an object");
  DataplaneConfig config;
  if (!read_config(info[0].As<Napi::Object>(), config))
    return throw_type(env, "init(config): ealArgs must be strings, ports {name, device} strings");
  Status status = g_dataplane.init(config);
  if (!status.ok()) return throw_status(env, status);
  return env.Undefined();
}

Napi::Value StartWorkers(const Napi::CallbackInfo& info) {
  Status status = g_dataplane.start_workers();
  if (!status.ok()) return throw_status(info.Env(), status);
  return info.Env().Undefined();
}

void stop_engine() {
  // A batch still being submitted holds pointers into the ring and table: let it finish.
  while (g_updates_in_flight.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  g_dataplane.stop();
}

Napi::Value Stop(const Napi::CallbackInfo& info) {
  stop_engine();
  return info.Env().Undefined();
}

// Applies a batch of packed updates on a libuv pool thread; the promise settles once every
// update is visible to the workers.
class ApplyUpdatesWorker : public Napi::AsyncWorker {
 public:
  ApplyUpdatesWorker(Napi::Env env, Napi::Uint8Array packed)
      : Napi::AsyncWorker(env, "microarp:applyUpdates"),
        deferred_(Napi::Promise::Deferred::New(env)),
        packed_ref_(Napi::Persistent(packed)),
        data_(packed.Data()),
        count_(packed.ByteLength() / kPackedUpdateSize) {
    g_updates_in_flight++;
  }
  ~ApplyUpdatesWorker() override = default;

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override { result_ = g_dataplane.writer().submit(data_, count_); }

  void OnOK() override {
    g_updates_in_flight--;
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("added", Napi::Number::New(env, double(result_.added)));
    out.Set("replaced", Napi::Number::New(env, double(result_.replaced)));
    out.Set("unchanged", Napi::Number::New(env, double(result_.unchanged)));
    out.Set("removed", Napi::Number::New(env, double(result_.removed)));
    out.Set("missing", Napi::Number::New(env, double(result_.missing)));
    out.Set("tableFull", Napi::Number::New(env, double(result_.table_full)));
    deferred_.Resolve(out);
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> packed_ref_;  // keeps the bytes alive while we read them
  const uint8_t* data_;
  size_t count_;
  UpdateResult result_;
};

Napi::Value ApplyUpdates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    return throw_type(env, "applyUpdates(packed) expects a Uint8Array");
  Napi::Uint8Array packed = info[0].As<Napi::Uint8Array>();
  if (packed.ByteLength() % kPackedUpdateSize != 0)
    return throw_type(env, "applyUpdates: length must be a multiple of 16 bytes");
  if (!g_dataplane.initialised())
    return throw_status(env, Status::error("NOT_STARTED", "the dataplane is not running"));
  auto* worker = new ApplyUpdatesWorker(env, packed);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array lcores = Napi::Array::New(env);
  for (size_t w = 0; w < g_dataplane.worker_count(); w++) {
    const LcoreStats& stats = g_dataplane.worker_stats(w);
    Napi::Float64Array counters = Napi::Float64Array::New(env, kCounterCount);
    for (size_t i = 0; i < kCounterCount; i++)
      counters[i] = double(stats.read(static_cast<Counter>(i)));
    Napi::Float64Array drops = Napi::Float64Array::New(env, kDropSlots - 1);
    for (size_t i = 1; i < kDropSlots; i++) drops[i - 1] = double(stats.read_drop(i));
    Napi::Float64Array violations = Napi::Float64Array::New(env, kViolationSlots - 1);
    for (size_t i = 1; i < kViolationSlots; i++) violations[i - 1] = double(stats.read_violation(i));
    Napi::Object lcore = Napi::Object::New(env);
    lcore.Set("violations", violations);
    lcore.Set("lcore", Napi::Number::New(env, g_dataplane.worker_lcore(w)));
    lcore.Set("counters", counters);
    lcore.Set("drops", drops);
    lcores.Set(uint32_t(w), lcore);
  }
  return lcores;
}

Napi::Value PortStatsValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const PortStats& s : g_dataplane.port_stats()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", s.name);
    o.Set("device", s.device);
    o.Set("portId", double(s.port_id));
    o.Set("ipackets", double(s.ipackets));
    o.Set("opackets", double(s.opackets));
    o.Set("ibytes", double(s.ibytes));
    o.Set("obytes", double(s.obytes));
    o.Set("imissed", double(s.imissed));
    o.Set("ierrors", double(s.ierrors));
    o.Set("oerrors", double(s.oerrors));
    o.Set("rxNombuf", double(s.rx_nombuf));
    o.Set("linkUp", s.link_up);
    o.Set("linkFullDuplex", s.link_full_duplex);
    o.Set("linkSpeedMbps", double(s.link_speed_mbps));
    o.Set("linkUps", double(s.link_ups));
    o.Set("linkDowns", double(s.link_downs));
    const bool up = g_dataplane.initialised() && i < g_dataplane.port_count();
    o.Set("adminUp", up ? g_dataplane.admin_up(i) : false);
    o.Set("responder", up ? g_dataplane.responder_on(i) : false);
    out.Set(i++, o);
  }
  return out;
}

Napi::Value TableInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("bindings", double(g_dataplane.table().live_count()));
  o.Set("capacity", double(g_dataplane.table().capacity()));
  o.Set("ipv6Bindings", double(g_dataplane.table().live_ipv6_count()));
  o.Set("ipv6Capacity", double(g_dataplane.table().ipv6_capacity()));
  o.Set("ringDepth", double(g_dataplane.update_ring_depth()));
  o.Set("ringFullWaits", double(g_dataplane.update_ring_full_waits()));
  o.Set("workersRunning", g_dataplane.workers_running());
  o.Set("mbufsInUse", double(g_dataplane.mbufs_in_use()));
  o.Set("mbufsTotal", double(g_dataplane.mbufs_total()));
  const HeapStats heap = g_dataplane.heap_stats();
  o.Set("heapTotalBytes", double(heap.total_bytes));
  o.Set("heapAllocatedBytes", double(heap.allocated_bytes));
  return o;
}

Napi::Value SetPortFlag(const Napi::CallbackInfo& info, bool admin) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean())
    return throw_type(env, "expects (portIndex: number, value: boolean)");
  if (!g_dataplane.initialised())
    return throw_status(env, Status::error("NOT_STARTED", "the dataplane is not running"));
  const size_t index = info[0].As<Napi::Number>().Uint32Value();
  const bool value = info[1].ToBoolean().Value();
  const bool ok = admin ? g_dataplane.set_admin_up(index, value) : g_dataplane.set_responder(index, value);
  if (!ok) return throw_status(env, Status::error("NO_PORT", "no port with that index"));
  return env.Undefined();
}

Napi::Value SetPortAdmin(const Napi::CallbackInfo& info) { return SetPortFlag(info, true); }

// reattachPort(index, devargs): the port's vdev closed and created again (an af_packet port
// whose interface was deleted and created anew). Synchronous: a few milliseconds of hotplug.
Napi::Value ReattachPort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString())
    return throw_type(env, "expects (portIndex: number, devargs: string)");
  if (!g_dataplane.initialised())
    return throw_status(env, Status::error("NOT_STARTED", "the dataplane is not running"));
  const Status status = g_dataplane.reattach_port(info[0].As<Napi::Number>().Uint32Value(),
                                                  info[1].As<Napi::String>().Utf8Value());
  if (!status.ok()) return throw_status(env, status);
  return env.Undefined();
}

// setPortSecurity(index, {trusted, router, enforce, subnets, subnets6, arpRatePps, arpBurst,
// ndRatePps, ndBurst}): a live reload of the port's ARP and ND security. Blocks Node only until every worker has finished its burst.
Napi::Value SetPortSecurity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsObject())
    return throw_type(env, "expects (portIndex: number, {trusted, router, enforce, subnets, subnets6, arpRatePps, arpBurst, ndRatePps, ndBurst})");
  if (!g_dataplane.initialised())
    return throw_status(env, Status::error("NOT_STARTED", "the dataplane is not running"));
  Napi::Object o = info[1].As<Napi::Object>();
  PortSecurity next;
  next.trusted = o.Get("trusted").ToBoolean().Value();
  next.router = o.Get("router").ToBoolean().Value();
  next.enforce = !o.Get("enforce").IsBoolean() || o.Get("enforce").ToBoolean().Value();
  next.arp_rate = get_rate(o, "arpRatePps", "arpBurst");
  next.nd_rate = get_rate(o, "ndRatePps", "ndBurst");
  if (!read_subnets(o.Get("subnets"), next.inspection))
    return throw_type(env, "subnets: at most 8 {network, length} with length 0 to 32");
  if (!read_subnets6(o.Get("subnets6"), next.inspection))
    return throw_type(env, "subnets6: at most 8 {bytes: 16 numbers, length} with length 0 to 128");
  if (!g_dataplane.set_port_security(info[0].As<Napi::Number>().Uint32Value(), next))
    return throw_status(env, Status::error("NO_PORT", "no port with that index"));
  return env.Undefined();
}
Napi::Value SetPortResponder(const Napi::CallbackInfo& info) { return SetPortFlag(info, false); }

Napi::Value FdbInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const FdbCounters c = g_dataplane.fdb().counters();
  Napi::Object o = Napi::Object::New(env);
  o.Set("entries", double(c.entries));
  o.Set("learned", double(c.learned));
  o.Set("moved", double(c.moved));
  o.Set("aged", double(c.aged));
  o.Set("overflow", double(c.overflow));
  o.Set("eventsLost", double(c.events_lost));
  return o;
}

// Drains up to 4096 FDB events into a Uint8Array of 16-byte FdbEvent records (layout in
// native/core/fdb_entry.h); TypeScript decodes them.
Napi::Value DrainFdbEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr unsigned kMax = 4096;
  rte_ring* ring = g_dataplane.initialised() ? g_dataplane.fdb().event_ring() : nullptr;
  if (ring == nullptr) return Napi::Uint8Array::New(env, 0);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, kMax * sizeof(FdbEvent));
  const unsigned n = rte_ring_sc_dequeue_burst_elem(ring, out.Data(), sizeof(FdbEvent), kMax, nullptr);
  return Napi::Uint8Array::New(env, n * sizeof(FdbEvent), out.ArrayBuffer(), 0);
}

Napi::Value Inject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    return throw_type(env, "inject(portIndex: number, frame: Uint8Array)");
  Napi::Uint8Array frame = info[1].As<Napi::Uint8Array>();
  if (frame.ByteLength() < 14 || frame.ByteLength() > 1518)
    return throw_type(env, "inject: a frame is 14 to 1518 bytes");
  const bool ok = g_dataplane.inject(info[0].As<Napi::Number>().Uint32Value(), frame.Data(),
                                     static_cast<uint32_t>(frame.ByteLength()));
  return Napi::Boolean::New(env, ok);
}

// Up to 4096 NdEvents (56-byte records, layout in native/core/nd_event.h).
Napi::Value DrainNdEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr unsigned kMax = 4096;
  if (!g_dataplane.initialised()) return Napi::Uint8Array::New(env, 0);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, kMax * sizeof(NdEvent));
  const unsigned n = g_dataplane.drain_nd_events(reinterpret_cast<NdEvent*>(out.Data()), kMax);
  return Napi::Uint8Array::New(env, n * sizeof(NdEvent), out.ArrayBuffer(), 0);
}

// Up to 4096 ArpEvents (32-byte records, layout in native/core/arp_event.h).
Napi::Value DrainArpEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr unsigned kMax = 4096;
  if (!g_dataplane.initialised()) return Napi::Uint8Array::New(env, 0);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, kMax * sizeof(ArpEvent));
  const unsigned n = g_dataplane.drain_arp_events(reinterpret_cast<ArpEvent*>(out.Data()), kMax);
  return Napi::Uint8Array::New(env, n * sizeof(ArpEvent), out.ArrayBuffer(), 0);
}

Napi::Value Names(Napi::Env env, const char* const* names, size_t first, size_t count) {
  Napi::Array out = Napi::Array::New(env);
  for (size_t i = first; i < count; i++) out.Set(uint32_t(i - first), names[i]);
  return out;
}

Napi::Object RegisterModule(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("startWorkers", Napi::Function::New(env, StartWorkers));
  exports.Set("stop", Napi::Function::New(env, Stop));
  exports.Set("applyUpdates", Napi::Function::New(env, ApplyUpdates));
  exports.Set("counters", Napi::Function::New(env, Counters));
  exports.Set("portStats", Napi::Function::New(env, PortStatsValue));
  exports.Set("tableInfo", Napi::Function::New(env, TableInfo));
  exports.Set("setPortAdmin", Napi::Function::New(env, SetPortAdmin));
  exports.Set("setPortResponder", Napi::Function::New(env, SetPortResponder));
  exports.Set("setPortSecurity", Napi::Function::New(env, SetPortSecurity));
  exports.Set("reattachPort", Napi::Function::New(env, ReattachPort));
  exports.Set("fdbInfo", Napi::Function::New(env, FdbInfo));
  exports.Set("drainFdbEvents", Napi::Function::New(env, DrainFdbEvents));
  exports.Set("inject", Napi::Function::New(env, Inject));
  exports.Set("drainArpEvents", Napi::Function::New(env, DrainArpEvents));
  exports.Set("drainNdEvents", Napi::Function::New(env, DrainNdEvents));
  exports.Set("violationNames", Names(env, kViolationNames, 1, kViolationSlots));
  exports.Set("counterNames", Names(env, kCounterNames, 0, kCounterCount));
  exports.Set("dropReasonNames", Names(env, kDropReasonNames, 1, kDropSlots));
  // Workers still polling when the process exits would fault: stop them first.
  napi_add_env_cleanup_hook(env, [](void*) { stop_engine(); }, nullptr);
  return exports;
}

}  // namespace
}  // namespace microarp

static Napi::Object InitMicroarp(Napi::Env env, Napi::Object exports) {
  return microarp::RegisterModule(env, exports);
}

NODE_API_MODULE(microarp, InitMicroarp)
