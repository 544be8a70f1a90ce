"""The fault proxy: a TCP proxy with toxiproxy-like toxics, changed at run time
(docs/simulator.md).

    from mediagrid.simulator.proxy import FaultProxy, ProxyClient, Toxic
"""

from mediagrid.simulator.proxy.api import ControlApi, HttpError, ProxyClient
from mediagrid.simulator.proxy.proxy import FaultProxy
from mediagrid.simulator.proxy.toxics import Toxic, ToxicError, parse_spec

__all__ = ["ControlApi", "FaultProxy", "HttpError", "ProxyClient", "Toxic", "ToxicError",
           "parse_spec"]
