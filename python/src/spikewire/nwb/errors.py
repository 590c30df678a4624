"""Errors of the NWB export: each carries a stable kebab-case code (local codes, outside the §10.1 wire
registry, so ``number`` is None)."""

from __future__ import annotations

from ..errors import SpikewireError

#: Every code the export raises, with what it means (docs/nwb.md lists the same table).
EXPORT_CODES: dict[str, str] = {
    "xdf-not-found": "the input file does not exist or cannot be opened",
    "xdf-bad-magic": "the file does not start with the XDF magic bytes 'XDF:'",
    "xdf-corrupt": "a chunk inside the file is malformed (bad length field, tag, stream id or content)",
    "xdf-too-large": "a chunk, an XML text or a sample count is over the reader's bounds",
    "xdf-bad-xml": "a header or footer is not well-formed XML, or uses a DTD or entities",
    "xdf-bad-stream": "a stream header lacks a field the format requires, or has an impossible value",
    "xdf-layout": "a spikewire stream does not follow the event-as-sample layout (kind, format, channels)",
    "xdf-bad-sample": "a sample holds an impossible event: channel out of range, time or value not finite",
    "xdf-no-streams": "the file holds no spikewire stream to export",
    "too-many-units": "the spike ports have more channels than the unit limit (--max-units)",
    "out-exists": "the output file exists (use --overwrite)",
    "nwb-write-failed": "pynwb/h5py failed to write the output file",
}


class NwbExportError(SpikewireError):
    """The export refused its input or failed to write; ``code`` is one of EXPORT_CODES, ``offset`` the
    byte offset in the XDF file where the problem was found (when it is about a place in the file)."""

    def __init__(self, code: str, message: str, offset: int | None = None) -> None:
        if code not in EXPORT_CODES:
            raise ValueError(f"not an export code: {code!r}")
        self.offset = offset
        super().__init__(code, message + (f" (at byte {offset})" if offset is not None else ""))
