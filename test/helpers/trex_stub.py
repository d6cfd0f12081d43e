#!/usr/bin/python3
"""Loads a TRex STL profile as TRex's console does, with a stand-in for TRex's API that records
what the profile builds, and prints the streams as JSON (TRex itself is not installed here).

  trex_stub.py PROFILE.py PORT_ID tunables|keywords [--targets 64 --senders 32 ...]

`tunables` passes the arguments as current TRex does (`-t --targets 64`, a list); `keywords`
as older TRex did (`-t targets=64`, keyword arguments).
"""
import json
import os
import sys
import types


class Recorded(object):
    """Any API object: remembers its keyword arguments."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs


def instruction(recorded):
    kind = type(recorded).__name__
    k = recorded.kwargs
    if kind == 'STLVmFlowVar':
        return {'op': 'var', 'name': k['name'], 'min': k['min_value'], 'max': k['max_value'],
                'size': k['size'], 'step': k.get('step', 1), 'kind': k['op']}
    if kind == 'STLVmWrFlowVar':
        return {'op': 'write', 'var': k['fv_name'], 'offset': k['pkt_offset'],
                'add': k.get('add_val', 0)}
    if kind == 'STLVmFixIpv4':
        return {'op': 'fix_ipv4', 'offset': k['offset']}
    raise ValueError('unexpected field-engine instruction %s' % kind)


def install_api():
    api = types.ModuleType('trex.stl.api')
    for name in ('STLStream', 'STLPktBuilder', 'STLTXCont', 'STLScVmRaw', 'STLVmFlowVar',
                 'STLVmWrFlowVar', 'STLVmFixIpv4'):
        setattr(api, name, type(name, (Recorded,), {}))
    api.STLStreamDstMAC_PKT = 'STLStreamDstMAC_PKT'
    trex = types.ModuleType('trex')
    stl = types.ModuleType('trex.stl')
    trex.stl, stl.api = stl, api
    sys.modules.update({'trex': trex, 'trex.stl': stl, 'trex.stl.api': api})


def keywords(arguments):
    pairs = zip(arguments[0::2], arguments[1::2])
    return {flag.lstrip('-'): int(value) for flag, value in pairs}


def main():
    profile, port_id, form, arguments = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    install_api()
    # As TRex's STLProfile.load_py: the profile's directory on sys.path, then register().
    sys.path.insert(0, os.path.dirname(os.path.abspath(profile)))
    module = __import__(os.path.splitext(os.path.basename(profile))[0])
    if form == 'tunables':
        streams = module.register().get_streams(direction=0, port_id=port_id, tunables=arguments)
    else:
        streams = module.register().get_streams(direction=0, port_id=port_id,
                                                **keywords(arguments))
    out = []
    for stream in streams:
        s = stream.kwargs
        packet = s['packet'].kwargs
        out.append({
            'name': s['name'],
            'pkt_buffer': packet['pkt_buffer'].hex(),
            'program': [instruction(i) for i in packet['vm'].args[0]],
            'pps': s['mode'].kwargs['pps'],
            'mac_src_override_by_pkt': s['mac_src_override_by_pkt'],
            'mac_dst_override_mode': s['mac_dst_override_mode'],
        })
    print(json.dumps(out))


if __name__ == '__main__':
    main()
