#!/usr/bin/python3
"""Writes the bindings of the benchmark's targets as the CSV `microarp bindings import` reads:
a header `ip,mac,vlan`, then binding k = 10.0.0.1 + k -> 02:aa:<k>, in the VLAN of the frames
(0: untagged), for k < --targets. Give it the --targets and --vlan of the TRex profiles or of
benchmarks/pktgen/make_pcaps.py (--senders is accepted and ignored: senders are never bound).

  /usr/bin/python3 benchmarks/bare-metal/make_bindings.py --targets 65536 -o /tmp/bindings.csv
  microarp bindings import /tmp/bindings.csv
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'trex'))

import frames  # noqa: E402  (benchmarks/trex/, put on sys.path just above)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    frames.add_plan_arguments(parser)
    parser.add_argument('-o', '--output', default='-', help='CSV file (default: standard output)')
    args = parser.parse_args()
    bindings = frames.bindings(frames.plan_or_exit(parser, args))
    out = sys.stdout if args.output == '-' else open(args.output, 'w')
    try:
        out.write('ip,mac,vlan\n')
        out.writelines('%s,%s,%d\n' % binding for binding in bindings)
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == '__main__':
    main()
