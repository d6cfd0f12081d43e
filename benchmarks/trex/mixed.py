"""TRex STL profile: half ARP requests for the bound targets, half UDP between bound hosts.

Port 0 sends from the first half of the bound hosts to the second, port 1 the other way, so
the switch learns each host behind the port it sends from: replies come back on the sending
port, the UDP datagrams leave by the other one.

In TRex's console (trex-console), with the file's path as TRex sees it:

  start -f mixed.py -m 10mpps --port 0 1 -t --targets 65536 --senders 256

Tunables (after -t, last on the line): --targets N, --senders M (per port), --vlan V.
See benchmarks/BARE-METAL.md.
"""
from trex_streams import stl_streams


class STLS1(object):
    def get_streams(self, tunables=(), port_id=0, **kwargs):
        return stl_streams('mixed', __file__, tunables, kwargs, port_id)


def register():
    return STLS1()
