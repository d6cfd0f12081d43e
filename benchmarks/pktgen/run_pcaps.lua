-- pktgen-dpdk: replays the pcap files given with -s on the ports, then prints what each port
-- sent and received per second over a measured window, and quits (benchmarks/BARE-METAL.md).
--
--   pktgen -l 0-4 -n 4 -a 0000:af:00.0 -a 0000:af:00.1 -- -P -T -m "[1:2].0,[3:4].1" \
--       -s 0:/tmp/pcaps/arp_requests-port0.pcap -s 1:/tmp/pcaps/arp_requests-port1.pcap \
--       -f benchmarks/pktgen/run_pcaps.lua
--
-- Environment: PKTGEN_PORTS ("0,1"; "0" sends on port 0 alone), PKTGEN_RATE (percent of line
-- rate, 100), PKTGEN_WARMUP (seconds before the window, 2), PKTGEN_SECONDS (the window, 10).

local ports = os.getenv("PKTGEN_PORTS") or "0,1"
local rate = tonumber(os.getenv("PKTGEN_RATE") or "100")
local warmup = tonumber(os.getenv("PKTGEN_WARMUP") or "2")
local seconds = tonumber(os.getenv("PKTGEN_SECONDS") or "10")

-- The window starts after the warm-up: microarp's FDB has learned the senders and the
-- first bursts' page faults are behind both sides.
pktgen.pcap(ports, "on")
pktgen.set(ports, "rate", rate)
pktgen.clr()
pktgen.start(ports)
pktgen.delay(warmup * 1000)
local before = pktgen.portStats("all", "port")
pktgen.delay(seconds * 1000)
local after = pktgen.portStats("all", "port")
pktgen.stop(ports)

-- Counters of every port, the silent ones included: with PKTGEN_PORTS=0 the unicast and the
-- flooded frames come back on port 1.
print(string.format("pktgen: %s at %s%% of line rate, %d s window after %d s", ports, rate, seconds, warmup))
for id = 0, pktgen.portCount() - 1 do
  local a, b = after[id], before[id]
  print(string.format("port %d: tx %.0f pkts/s, rx %.0f pkts/s, rx missed %d, rx errors %d",
    id, (a.opackets - b.opackets) / seconds, (a.ipackets - b.ipackets) / seconds,
    a.imissed - b.imissed, a.ierrors - b.ierrors))
end
pktgen.quit()
