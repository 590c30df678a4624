"""NWB export of spikewire XDF recordings: ``python -m spikewire.nwb FILE.xdf --out FILE.nwb``.

pynwb, h5py and pyxdf are imported when an export runs, not when spikewire is imported."""

from .convert import ExportOptions, ExportSummary, build_nwbfile, export
from .errors import EXPORT_CODES, NwbExportError
from .xdfread import PortStream, Recording, read_recording
from .xdfscan import ScanLimits

__all__ = ["EXPORT_CODES", "ExportOptions", "ExportSummary", "NwbExportError", "PortStream", "Recording",
           "ScanLimits", "build_nwbfile", "export", "read_recording"]
