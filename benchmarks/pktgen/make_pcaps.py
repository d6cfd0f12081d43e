#!/usr/bin/python3
"""Writes the TRex profiles' traffic as pcap files for pktgen-dpdk (`-s PORT:FILE`).

For every profile (arp_requests, mixed, unbound) and each of the two ports:
  OUT/<profile>-port<P>.pcap

The frames are the TRex profiles' own (benchmarks/trex/frames.py): the same targets, senders
and VLAN for the same arguments, every stream over its whole period, the streams of a profile
interleaved one frame each. pktgen replays a pcap in a loop, so the file is one period of the
traffic. Bind the targets with benchmarks/bare-metal/make_bindings.py and the same --targets
and --vlan.

  /usr/bin/python3 benchmarks/pktgen/make_pcaps.py --targets 65536 --senders 256 --out /tmp/pcaps
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'trex'))

import frames  # noqa: E402  (benchmarks/trex/, put on sys.path just above)
from scapy.utils import PcapWriter  # noqa: E402

LINKTYPE_ETHERNET = 1


def write_pcap(path: str, packets) -> None:
    writer = PcapWriter(path, linktype=LINKTYPE_ETHERNET, sync=False)
    try:
        for packet in packets:
            writer.write(packet)
    finally:
        writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    frames.add_plan_arguments(parser)
    parser.add_argument('--out', required=True,
                        help='directory for the pcap files (created if needed)')
    # pktgen copies the whole file into mbufs at start: this bounds the memory it needs.
    parser.add_argument('--max-frames', type=int, default=1 << 18,
                        help='at most this many frames per file; a longer period is cut short')
    args = parser.parse_args()
    plan = frames.plan_or_exit(parser, args)
    os.makedirs(args.out, exist_ok=True)
    for profile in frames.PROFILES:
        for side in frames.SIDES:
            try:
                streams = frames.streams(profile, plan, side)
            except ValueError as error:  # mixed with a single target
                print('%s: skipped: %s' % (profile, error), file=sys.stderr)
                continue
            per_stream = frames.frames_per_stream(streams)
            fitting = args.max_frames // len(streams)
            if per_stream > fitting:
                print('%s: a period is %d frames per stream, cut to %d: not every target and '
                      'sender is in the file' % (profile, per_stream, fitting), file=sys.stderr)
                per_stream = fitting
            path = os.path.join(args.out, '%s-port%d.pcap' % (profile, side))
            write_pcap(path, frames.expand(streams, per_stream))
            print('%s: %d frames' % (path, per_stream * len(streams)))


if __name__ == '__main__':
    main()
