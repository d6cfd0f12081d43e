"""TRex STL profile: ARP requests for targets that are not bound (10.128.0.1 and up).

None is answered: microarp floods them to the other port (unknown: flood) or drops them
(unknown: drop), and counts them as requests_unbound.

In TRex's console (trex-console), with the file's path as TRex sees it:

  start -f unbound.py -m 10mpps --port 0 -t --targets 65536 --senders 256

Tunables (after -t, last on the line): --targets N, --senders M (per port), --vlan V.
See benchmarks/BARE-METAL.md.
"""
from trex_streams import stl_streams


class STLS1(object):
    def get_streams(self, tunables=(), port_id=0, **kwargs):
        return stl_streams('unbound', __file__, tunables, kwargs, port_id)


def register():
    return STLS1()
