// The ND frames the control side sends (migration announcements, aging probes), dissected by
// scapy, an independent implementation: every field, and the ICMPv6 checksum recomputed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { formatIPv6, parseIPv6, parseMac } from '../src/dataplane/address';
import { linkLocalOf, probeNsFrame, unsolicitedNaFrame } from '../src/learning/nd_frames';

const DISSECT = `
import json, sys
from scapy.all import Ether, Dot1Q, IPv6, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr
out = []
for line in sys.stdin.read().split():
    raw = bytes.fromhex(line)
    p = Ether(raw)
    ip = p[IPv6]
    icmp = ip.payload
    again = Ether(raw)
    del again[IPv6].payload.cksum
    fresh = Ether(bytes(again))
    opt = icmp.getlayer(ICMPv6NDOptDstLLAddr) or icmp.getlayer(ICMPv6NDOptSrcLLAddr)
    out.append({
        "len": len(raw), "dst": p.dst, "src": p.src,
        "vlan": p[Dot1Q].vlan if Dot1Q in p else None,
        "version": ip.version, "tc": ip.tc, "fl": ip.fl, "plen": ip.plen, "nh": ip.nh, "hlim": ip.hlim,
        "ipsrc": ip.src, "ipdst": ip.dst,
        "type": icmp.type, "code": icmp.code,
        "R": getattr(icmp, "R", None), "S": getattr(icmp, "S", None), "O": getattr(icmp, "O", None),
        "target": icmp.tgt,
        "opt_type": opt.type if opt else None, "opt_len": opt.len if opt else None, "lladdr": opt.lladdr if opt else None,
        "checksum_ok": icmp.cksum == fresh[IPv6].payload.cksum,
    })
print(json.dumps(out))
`;

function dissect(frames: Uint8Array[]): Record<string, unknown>[] {
  const input = frames.map((f) => Buffer.from(f).toString('hex')).join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', DISSECT], { input, encoding: 'utf8' })) as Record<string, unknown>[];
}

const MAC = parseMac('02:aa:00:00:00:07')!;
const PROBE_MAC = parseMac('02:00:5e:10:00:01')!;
const ADDR = parseIPv6('2001:db8::7')!;

describe('ND frames the control side sends', () => {
  it('an unsolicited NA: all-nodes, override, TLLAO, R only for routers, tagged or not', () => {
    const [plain, router, tagged] = dissect([
      unsolicitedNaFrame(MAC, ADDR, false, null),
      unsolicitedNaFrame(MAC, ADDR, true, null),
      unsolicitedNaFrame(MAC, ADDR, false, 10),
    ]);
    const common = {
      dst: '33:33:00:00:00:01', src: '02:aa:00:00:00:07', version: 6, tc: 0, fl: 0, plen: 32, nh: 58, hlim: 255,
      ipsrc: '2001:db8::7', ipdst: 'ff02::1', type: 136, code: 0, S: 0, O: 1, target: '2001:db8::7',
      opt_type: 2, opt_len: 1, lladdr: '02:aa:00:00:00:07', checksum_ok: true,
    };
    assert.deepEqual(plain, { ...common, len: 86, vlan: null, R: 0 });
    assert.deepEqual(router, { ...common, len: 86, vlan: null, R: 1 });
    assert.deepEqual(tagged, { ...common, len: 90, vlan: 10, R: 0 });
  });

  it('an aging probe: a unicast NS to the owner from the probe MAC and its link-local address', () => {
    assert.equal(formatIPv6(linkLocalOf(PROBE_MAC)), 'fe80::5eff:fe10:1');
    const [probe] = dissect([probeNsFrame(PROBE_MAC, MAC, ADDR, null)]);
    assert.deepEqual(probe, {
      len: 86, dst: '02:aa:00:00:00:07', src: '02:00:5e:10:00:01', vlan: null, version: 6, tc: 0, fl: 0, plen: 32, nh: 58, hlim: 255,
      ipsrc: 'fe80::5eff:fe10:1', ipdst: '2001:db8::7', type: 135, code: 0, R: null, S: null, O: null, target: '2001:db8::7',
      opt_type: 1, opt_len: 1, lladdr: '02:00:5e:10:00:01', checksum_ok: true,
    });
  });
});
