"""spikewire for Python: stream timestamped spikes between libp2p peers (spec/spikewire.md)."""

from spikewire.errors import ProtocolError, SpikewireError

__all__ = ["ProtocolError", "SpikewireError"]
