#!/usr/bin/python3
"""The bare-metal benchmark's traffic, in plain scapy (no TRex needed to import it).

Shared by the TRex profiles beside this file, benchmarks/pktgen/make_pcaps.py and
benchmarks/bare-metal/make_bindings.py, so that the frames, the pcaps and the bindings all
follow one address plan (see benchmarks/BARE-METAL.md):

  bound target k         10.0.0.1 + k      MAC 02:aa:<k, 4 bytes>  (as benchmarks/workload.ts)
  unbound target k       10.128.0.1 + k    never bound
  sender i of side s     172.16.0.1 + s * 65536 + i, MAC 02:00:<s * 65536 + i + 1, 4 bytes>
  mixed traffic's hosts  the bound targets: the first half behind side 0, the rest behind side 1

A side is one of the two ports of the NIC under test (TRex port id mod 2). Each side has its
own senders, so that no MAC is ever seen on both ports (the FDB would take it for a move).

Every stream is described twice, on purpose:

* as TRex's field engine runs it: a base frame and variables, each stepping through
  0..count-1 once per frame, each written (plus a constant) as 4 big-endian bytes at fixed
  offsets, the IPv4 checksum recomputed where there is one;
* as explicit frames built by scapy from the address plan alone: frame k has every variable
  at k mod its count.

test/trex_profiles.test.ts applies the first to the base frame and checks that it gives the
second byte for byte, so an offset pointing at the wrong field cannot go unnoticed. The pcap
files are made the first way (engine_frames), which is fast; scapy takes about a millisecond
per frame.

  frames.py --targets 64 --senders 32 [--vlan 10] [--with-frames]   prints the description
"""
import argparse
import functools
import ipaddress
import json
import math
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Tuple

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Packet, Padding, Raw

PROFILES = ('arp_requests', 'mixed', 'unbound')
SIDES = (0, 1)

# The 64-byte minimum Ethernet frame without its FCS, which TRex, pktgen and pcap files leave
# to the NIC.
FRAME_LENGTH = 60

FIRST_TARGET_IP = int(ipaddress.IPv4Address('10.0.0.1'))
FIRST_UNBOUND_IP = int(ipaddress.IPv4Address('10.128.0.1'))
SENDER_NETWORK = int(ipaddress.IPv4Address('172.16.0.0'))
TARGET_MAC_PREFIX = b'\x02\xaa'
SENDER_MAC_PREFIX = b'\x02\x00'
BROADCAST = 'ff:ff:ff:ff:ff:ff'
UNKNOWN_MAC = '00:00:00:00:00:00'

# Bound targets stay below the unbound range (10.0.0.1 + 2^22 < 10.128.0.1).
MAX_TARGETS = 1 << 22
# A side's senders stay inside its own /16 of 172.16.0.0/12.
MAX_SENDERS = (1 << 16) - 1

UDP_SOURCE_PORT = 1024
UDP_DISCARD_PORT = 9

# Every field-engine write is 4 bytes: the last 4 bytes of a MAC, or an IPv4 address.
WRITE_SIZE = 4


def format_mac(prefix: bytes, low: int) -> str:
    return ':'.join('%02x' % b for b in prefix + low.to_bytes(4, 'big'))


def format_ip(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


@dataclass(frozen=True)
class Plan:
    """How many targets and senders, and the 802.1Q VLAN of every frame (None: untagged)."""

    targets: int
    senders: int
    vlan: Optional[int] = None

    def __post_init__(self):
        if not 1 <= self.targets <= MAX_TARGETS:
            raise ValueError('targets must be 1 to %d, not %d' % (MAX_TARGETS, self.targets))
        if not 1 <= self.senders <= MAX_SENDERS:
            raise ValueError('senders must be 1 to %d, not %d' % (MAX_SENDERS, self.senders))
        if self.vlan is not None and not 1 <= self.vlan <= 4094:
            raise ValueError('vlan must be 1 to 4094, not %d' % self.vlan)

    @property
    def l3_offset(self) -> int:
        """Where the ARP or IPv4 header starts: after the Ethernet header and the tag."""
        return 18 if self.vlan is not None else 14

    def ether(self, src: str, dst: str) -> Packet:
        frame = Ether(src=src, dst=dst)
        return frame / Dot1Q(vlan=self.vlan) if self.vlan is not None else frame


def target_ip(k: int) -> int:
    return FIRST_TARGET_IP + k


def target_mac(k: int) -> str:
    return format_mac(TARGET_MAC_PREFIX, k)


def sender_number(side: int, i: int) -> int:
    """The last 32 bits of sender i's MAC, and its offset in 172.16.0.0/12."""
    return (side << 16) + i + 1


def bindings(plan: Plan) -> List[Tuple[str, str, int]]:
    """(ip, mac, vlan) of every bound target, vlan 0 for untagged."""
    return [(format_ip(target_ip(k)), target_mac(k), plan.vlan or 0) for k in range(plan.targets)]


@dataclass(frozen=True)
class Write:
    """The variable plus `add`, modulo 2^32, written big-endian at `offset`."""

    field: str  # what the 4 bytes are, e.g. 'arp.spa'; for a MAC ('eth.src'), its last 4 bytes
    offset: int
    add: int


@dataclass(frozen=True)
class Variable:
    name: str
    count: int
    writes: Tuple[Write, ...]


@dataclass(frozen=True)
class Stream:
    name: str
    variables: Tuple[Variable, ...]
    build: Callable[[int], Packet]
    # Offset of the IPv4 header whose checksum the field engine recomputes, if any.
    fix_ipv4_at: Optional[int] = None

    @property
    def period(self) -> int:
        """Frames before the sequence repeats: the least common multiple of the counts."""
        return functools.reduce(lambda a, v: a * v.count // math.gcd(a, v.count),
                                self.variables, 1)

    def frame(self, k: int) -> bytes:
        """Frame k built by scapy from the address plan: the reference, slow (about 1 ms)."""
        return bytes(self.build(k))

    def engine_frames(self, count: int) -> Iterator[bytes]:
        """Frames 0..count-1 made as the field engine makes them, from the base frame: fast."""
        base = self.frame(0)
        for k in range(count):
            frame = bytearray(base)
            for variable in self.variables:
                value = k % variable.count
                for w in variable.writes:
                    written = (value + w.add) & 0xffffffff
                    frame[w.offset:w.offset + WRITE_SIZE] = written.to_bytes(WRITE_SIZE, 'big')
            if self.fix_ipv4_at is not None:
                fix_ipv4_checksum(frame, self.fix_ipv4_at)
            yield bytes(frame)

    def describe(self, with_frames: bool) -> dict:
        description = {
            'name': self.name,
            'base': self.frame(0).hex(),
            'period': self.period,
            'fix_ipv4_at': self.fix_ipv4_at,
            'variables': [
                {
                    'name': v.name,
                    'count': v.count,
                    'writes': [
                        {'field': w.field, 'offset': w.offset, 'add': w.add, 'size': WRITE_SIZE}
                        for w in v.writes
                    ],
                }
                for v in self.variables
            ],
        }
        if with_frames:
            description['frames'] = [self.frame(k).hex() for k in range(self.period)]
        return description


def fix_ipv4_checksum(frame: bytearray, at: int) -> None:
    header_end = at + (frame[at] & 0x0f) * 4
    frame[at + 10:at + 12] = b'\x00\x00'
    total = sum(int.from_bytes(frame[i:i + 2], 'big') for i in range(at, header_end, 2))
    while total > 0xffff:
        total = (total & 0xffff) + (total >> 16)
    frame[at + 10:at + 12] = (~total & 0xffff).to_bytes(2, 'big')


def padded(packet: Packet) -> Packet:
    return packet / Padding(b'\x00' * (FRAME_LENGTH - len(packet)))


def varying(*variables: Variable) -> Tuple[Variable, ...]:
    """A variable of count 1 never changes the base frame; TRex also refuses min == max."""
    return tuple(v for v in variables if v.count > 1)


def arp_requests(plan: Plan, side: int, name: str, first_target: int) -> Stream:
    """Broadcast requests from the side's senders, in turn, for first_target + 0..targets-1."""
    l3 = plan.l3_offset
    first_sender = sender_number(side, 0)

    def build(k: int) -> Packet:
        number = sender_number(side, k % plan.senders)
        mac = format_mac(SENDER_MAC_PREFIX, number)
        return padded(plan.ether(mac, BROADCAST) / ARP(
            op='who-has', hwsrc=mac, psrc=format_ip(SENDER_NETWORK + number),
            hwdst=UNKNOWN_MAC, pdst=format_ip(first_target + k % plan.targets)))

    sender = Variable('sender', plan.senders, (
        Write('eth.src', 8, first_sender),
        Write('arp.sha', l3 + 10, first_sender),
        Write('arp.spa', l3 + 14, SENDER_NETWORK + first_sender),
    ))
    target = Variable('target', plan.targets, (Write('arp.tpa', l3 + 24, first_target),))
    return Stream(name, varying(sender, target), build)


def udp_between_hosts(plan: Plan, side: int) -> Stream:
    """Host i behind this side sends one UDP datagram to host i behind the other side."""
    if plan.targets < 2:
        raise ValueError('mixed traffic needs at least 2 targets: one host behind each side')
    l3 = plan.l3_offset
    hosts = plan.targets // 2
    first_src, first_dst = side * hosts, (1 - side) * hosts

    def build(k: int) -> Packet:
        src, dst = first_src + k % hosts, first_dst + k % hosts
        # UDP checksum 0 (none, allowed over IPv4): the field engine changes the addresses that
        # a UDP checksum would cover, and fixes only the IPv4 header's.
        datagram = (plan.ether(target_mac(src), target_mac(dst))
                    / IP(src=format_ip(target_ip(src)), dst=format_ip(target_ip(dst)))
                    / UDP(sport=UDP_SOURCE_PORT, dport=UDP_DISCARD_PORT, chksum=0))
        return datagram / Raw(b'\x00' * (FRAME_LENGTH - len(datagram)))

    host = Variable('host', hosts, (
        Write('eth.dst', 2, first_dst),
        Write('eth.src', 8, first_src),
        Write('ipv4.src', l3 + 12, target_ip(first_src)),
        Write('ipv4.dst', l3 + 16, target_ip(first_dst)),
    ))
    return Stream('udp', varying(host), build, fix_ipv4_at=l3)


def streams(profile: str, plan: Plan, side: int) -> List[Stream]:
    """What one side sends for a profile; the streams of a profile share its rate equally."""
    if profile == 'arp_requests':
        return [arp_requests(plan, side, 'arp_requests', FIRST_TARGET_IP)]
    if profile == 'unbound':
        return [arp_requests(plan, side, 'unbound', FIRST_UNBOUND_IP)]
    if profile == 'mixed':
        return [arp_requests(plan, side, 'arp_requests', FIRST_TARGET_IP),
                udp_between_hosts(plan, side)]
    raise ValueError('unknown profile %r (expected one of %s)' % (profile, ', '.join(PROFILES)))


def frames_per_stream(profile_streams: List[Stream]) -> int:
    """The longest period: every stream then covers all its values, the shorter ones repeating."""
    return max(s.period for s in profile_streams)


def expand(profile_streams: List[Stream], per_stream: int) -> Iterator[bytes]:
    """The field engine's frames, one of each stream in turn, as equal rates give."""
    for turn in zip(*(s.engine_frames(per_stream) for s in profile_streams)):
        yield from turn


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--targets', type=int, default=1024,
                        help='bound targets asked for (10.0.0.1 and up)')
    parser.add_argument('--senders', type=int, default=256,
                        help='requesting hosts per port (172.16.0.1 and up on port 0)')
    parser.add_argument('--vlan', type=int, default=None,
                        help='802.1Q VLAN of every frame (default: untagged)')


PLAN_ARGUMENTS = ('targets', 'senders', 'vlan')


def plan_from(args: argparse.Namespace) -> Plan:
    return Plan(targets=args.targets, senders=args.senders, vlan=args.vlan)


def plan_or_exit(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Plan:
    """The plan, or the usage and the reason, exit code 2, as for any bad argument."""
    try:
        return plan_from(args)
    except ValueError as error:
        parser.error(str(error))


def describe(plan: Plan, with_frames: bool) -> dict:
    return {
        profile: {str(side): [s.describe(with_frames) for s in streams(profile, plan, side)]
                  for side in SIDES}
        for profile in PROFILES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description='Print the field-engine description of every '
                                     'profile and side as JSON.')
    add_plan_arguments(parser)
    parser.add_argument('--with-frames', action='store_true',
                        help="also every stream's explicit frames over one period (hex)")
    args = parser.parse_args()
    print(json.dumps(describe(plan_or_exit(parser, args), args.with_frames), indent=1))


if __name__ == '__main__':
    main()
