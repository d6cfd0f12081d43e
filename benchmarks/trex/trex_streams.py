"""The TRex half of the profiles: frames.Stream -> STLStream with its field-engine program.

Only this module touches TRex's API, and only when a profile is loaded, so frames.py stays
importable where TRex is not installed.
"""
import argparse
import os

import frames


def stl_api():
    try:
        from trex.stl import api
    except ImportError:  # TRex releases before the `trex` package
        from trex_stl_lib import api
    return api


def signed32(value: int) -> int:
    """TRex keeps add_val as a signed 32-bit integer. A 4-byte write wraps modulo 2^32, so the
    negative twin of a constant above 2^31 (172.16.0.0 and up) writes the very same bytes."""
    return value - (1 << 32) if value >= 1 << 31 else value


def field_engine(api, stream: frames.Stream):
    instructions = []
    for variable in stream.variables:
        # size=4: values up to 2^32, and writes of 4 bytes, the width of every field we vary.
        instructions.append(api.STLVmFlowVar(name=variable.name, min_value=0,
                                             max_value=variable.count - 1, size=frames.WRITE_SIZE,
                                             op='inc'))
        instructions += [api.STLVmWrFlowVar(fv_name=variable.name, pkt_offset=w.offset,
                                            add_val=signed32(w.add))
                         for w in variable.writes]
    if stream.fix_ipv4_at is not None:
        instructions.append(api.STLVmFixIpv4(offset=stream.fix_ipv4_at))
    return api.STLScVmRaw(instructions)


def plan_from_tunables(profile_file: str, tunables, legacy: dict) -> frames.Plan:
    parser = argparse.ArgumentParser(prog=os.path.basename(profile_file),
                                     description='tunables (give them after -t, last on the line)')
    frames.add_plan_arguments(parser)
    # TRex before argparse tunables took `-t targets=64,senders=32` and passes those as keyword
    # arguments (along with its own, such as direction).
    from_keywords = ['--%s=%s' % (key, value) for key, value in legacy.items()
                     if key in frames.PLAN_ARGUMENTS]
    return frames.plan_from(parser.parse_args(list(tunables or ()) + from_keywords))


def stl_streams(profile: str, profile_file: str, tunables, legacy: dict, port_id: int) -> list:
    """The profile's streams for one TRex port; ports 0, 2, ... are side 0, the others side 1."""
    plan = plan_from_tunables(profile_file, tunables, legacy)
    api = stl_api()
    side = port_id % 2
    return [
        api.STLStream(
            name='%s-%d' % (stream.name, side),
            packet=api.STLPktBuilder(pkt_buffer=stream.frame(0), vm=field_engine(api, stream)),
            # Equal shares: `start -m 10mpps` scales them to the total.
            mode=api.STLTXCont(pps=1),
            # The frames carry their own MACs: the ARP sender MAC must match the Ethernet
            # source, which TRex would otherwise replace by the port's MAC (and the destination
            # by the one in trex_cfg.yaml).
            mac_src_override_by_pkt=True,
            mac_dst_override_mode=api.STLStreamDstMAC_PKT,
        )
        for stream in frames.streams(profile, plan, side)
    ]
