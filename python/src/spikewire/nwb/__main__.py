"""`python -m spikewire.nwb FILE.xdf --out FILE.nwb`: export a spikewire XDF recording to NWB 2.

Prints one line on success (a JSON object with --json) and exits 0; on an error prints
`spikewire.nwb: <code>: <message>` on stderr (a JSON line {"event": "error", "code": ...} on stdout with
--json) and exits 2 for a refused input or option, 1 for a failed write."""

from __future__ import annotations

import argparse
import json
import sys

from .convert import ExportOptions, export
from .errors import NwbExportError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spikewire.nwb",
                                 description="Export a spikewire XDF recording (spikewire record) to NWB 2.")
    ap.add_argument("xdf", help="the XDF file")
    ap.add_argument("--out", required=True, help="the NWB file to write")
    ap.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    ap.add_argument("--session-description", help="default: names the recorded nodes, peers and ports")
    ap.add_argument("--identifier", help="the NWB identifier (default: a new UUID)")
    ap.add_argument("--experimenter", action="append", default=[], help="'Last, First' (repeatable)")
    ap.add_argument("--institution")
    ap.add_argument("--lab")
    ap.add_argument("--keyword", action="append", default=[], help="repeatable (default: spikewire, spikes)")
    ap.add_argument("--experiment-description")
    ap.add_argument("--subject-id", help="writes an NWB Subject (DANDI requires one, with species, sex and age)")
    ap.add_argument("--species", help="Latin binomial (e.g. 'Rattus norvegicus') or an NCBI taxonomy IRI")
    ap.add_argument("--sex", help="M, F, O (other) or U (unknown)")
    ap.add_argument("--age", help="ISO 8601 duration, e.g. P21D")
    ap.add_argument("--subject-description")
    ap.add_argument("--max-units", type=int, default=65_536,
                    help="most units (channels of all spike ports) to write (default 65536)")
    ap.add_argument("--no-compression", action="store_true", help="write datasets without gzip")
    ap.add_argument("--clock", choices=("publisher", "recorder"), default="publisher",
                    help="publisher (default): times as recorded, each port in its publisher's clock, exact; "
                         "recorder: mapped into the recorder's clock with the recorded clock estimates")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line")
    a = ap.parse_args(argv)
    opts = ExportOptions(session_description=a.session_description, identifier=a.identifier,
                         experimenter=a.experimenter, institution=a.institution, lab=a.lab, keywords=a.keyword,
                         max_units=a.max_units, compression=not a.no_compression, overwrite=a.overwrite,
                         experiment_description=a.experiment_description, clock=a.clock,
                         subject={k: v for k, v in (("subject_id", a.subject_id), ("species", a.species),
                                                    ("sex", a.sex), ("age", a.age),
                                                    ("description", a.subject_description)) if v})
    if opts.subject and not a.subject_id:
        ap.error("--species/--sex/--age/--subject-description need --subject-id")
    try:
        summary = export(a.xdf, a.out, opts)
    except NwbExportError as e:
        if a.json:
            print(json.dumps({"event": "error", "code": e.code, "message": e.message, "offset": e.offset}))
        print(f"spikewire.nwb: {e.code}: {e.message}", file=sys.stderr)
        return 1 if e.code == "nwb-write-failed" else 2
    if not a.subject_id:
        print("spikewire.nwb: note: no --subject-id: the file has no Subject, which nwbinspector reports as "
              "critical and DANDI refuses (give --subject-id, --species, --sex and --age)", file=sys.stderr)
    if a.json:
        print(json.dumps(summary.as_json()))
    else:
        print(f"wrote {summary.nwb}: {summary.units} units, {summary.spikes} spikes, {summary.events} weighted "
              f"events from {summary.ports} ports ({summary.nwb_bytes} bytes; read {summary.read_s:.3f} s, "
              f"write {summary.write_s:.3f} s)"
              + (f"; {summary.truncated_bytes} bytes of a cut-short last chunk ignored" if summary.truncated_bytes else "")
              + (f"; {summary.inexact_times} times rounded to the µs" if summary.inexact_times else "")
              + (f"; not exported: {', '.join(summary.skipped_streams)}" if summary.skipped_streams else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
