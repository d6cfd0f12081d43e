"""TRex STL profile: ARP requests for the bound targets, from the senders of each port.

Every request asks for a bound address: microarp answers each one back out the port it came
in on, so TRex's rx counter of the sending port counts the replies.

In TRex's console (trex-console), with the file's path as TRex sees it:

  start -f arp_requests.py -m 10mpps --port 0 -t --targets 65536 --senders 256

Tunables (after -t, last on the line): --targets N, --senders M (per port), --vlan V.
See benchmarks/BARE-METAL.md.
"""
from trex_streams import stl_streams


class STLS1(object):
    def get_streams(self, tunables=(), port_id=0, **kwargs):
        return stl_streams('arp_requests', __file__, tunables, kwargs, port_id)


def register():
    return STLS1()
