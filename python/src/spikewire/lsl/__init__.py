"""The Lab Streaming Layer bridge (docs/lsl.md): `python -m spikewire.lsl publish|ingest`.

`publish` offers a spikewire out port as an LSL outlet; `ingest` serves an LSL stream as a spikewire out
port. pylsl (its wheels bundle liblsl) is imported on first use, so that `lslcfg.use_config` can point
liblsl at a configuration file first.
"""
from .ingest import Ingest, IngestStats
from .mapping import ClockAnchor, SampleMapper, SlewedOffset, events_to_samples, measure_anchor
from .publish import Publisher, PublishStats

__all__ = ["ClockAnchor", "Ingest", "IngestStats", "Publisher", "PublishStats", "SampleMapper", "SlewedOffset",
           "events_to_samples", "measure_anchor"]
