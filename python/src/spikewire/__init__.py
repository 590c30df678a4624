"""spikewire for Python: stream timestamped spikes between libp2p peers (spec/spikewire.md)."""

from spikewire.config import ConfigError, load_config, parse_config
from spikewire.errors import ProtocolError, RemoteCloseError, SpikewireError
from spikewire.node import Node
from spikewire.sync import SyncNode, connect
from spikewire.version import SOFTWARE, VERSION

__all__ = ["ConfigError", "Node", "ProtocolError", "RemoteCloseError", "SOFTWARE", "SpikewireError", "SyncNode",
           "VERSION", "connect", "load_config", "parse_config"]
