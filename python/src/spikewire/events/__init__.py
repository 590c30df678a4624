"""Events streams (spec §9.2): sans-IO sender and receiver state machines, and the async roles on
py-libp2p built on them."""
from .attach import EventsNode, attach
from .ports import EventBatch, InPort, OutPort, WatermarkItem
from .receiver import EventReceiver
from .sender import EventSender
from .states import Accepted, Closed, Events, Ignored, Lost, OpenReceived, Progress, Refused, State

__all__ = ["attach", "EventsNode", "EventBatch", "InPort", "OutPort", "WatermarkItem",
           "EventReceiver", "EventSender", "Accepted", "Closed", "Events", "Ignored", "Lost", "OpenReceived",
           "Progress", "Refused", "State"]
