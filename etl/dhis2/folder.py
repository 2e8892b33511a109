"""A folder of DHIS2 exports: which file is metadata, data values or registrations.

`mapping.yaml`'s `files` section can list them by glob; otherwise each file is recognised
by its content (the first list key of a JSON document, a CSV header, an XML root), so a
ministry can drop its exports into one folder as they come out of DHIS2. Files that are
not exports (the mapping itself, notes, hidden files), exports the aggregate load does
not use (tracker) and district-month climate files (read through the mapping's
`facility.climate`, `etl.climate`) are listed as ignored, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from etl.dhis2.metadata import TYPES
from etl.dhis2.normalize import TRACKER_KEYS
from etl.dhis2.problems import Dhis2Error
from etl.dhis2.source import read_bytes

METADATA, DATA_VALUES, REGISTRATIONS = "metadata", "data_values", "registrations"
EXPORT_SUFFIXES = {".json", ".xml", ".adx", ".csv"}
HEAD = 65_536
FIRST_LIST = re.compile(rb'"([A-Za-z]+)"\s*:\s*\[')


@dataclass
class ExportFiles:
    """The folder's files by kind, sorted by path (so loads are reproducible)."""

    metadata: list[Path] = field(default_factory=list)
    data_values: list[Path] = field(default_factory=list)
    registrations: list[Path] = field(default_factory=list)
    ignored: list[tuple[Path, str]] = field(default_factory=list)

    def all(self) -> list[Path]:
        return sorted([*self.metadata, *self.data_values, *self.registrations])


def export_files(
    folder: Path, patterns: dict[str, tuple[str, ...]], skip: set[Path]
) -> ExportFiles:
    """Classify every file under `folder` (recursively), except `skip` (the mapping)."""
    found = ExportFiles()
    listed = {kind: _globbed(folder, globs) for kind, globs in patterns.items()}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        resolved = path.resolve()
        if resolved in skip or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if patterns:
            kind = next((k for k, paths in listed.items() if resolved in paths), None)
            reason = "not listed in the mapping's `files`"
        else:
            kind, reason = classify(path)
        if kind is None:
            found.ignored.append((path, reason))
        else:
            getattr(found, kind).append(path)
    return found


def _globbed(folder: Path, globs: tuple[str, ...]) -> set[Path]:
    return {p.resolve() for pattern in globs for p in folder.glob(pattern) if p.is_file()}


def _suffix(path: Path) -> str:
    """The export's own suffix (`.json` for `x.json.gz`)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zip"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _head(path: Path) -> bytes:
    if path.suffix.lower() in (".gz", ".zip"):
        return read_bytes(path)[:HEAD]
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD)
    except OSError as error:
        raise Dhis2Error(str(path), f"cannot be read: {error.strerror or error}") from error


def classify(path: Path) -> tuple[str | None, str]:
    """(kind, "") for an export the load uses, else (None, why it is ignored)."""
    suffix = _suffix(path)
    if suffix not in EXPORT_SUFFIXES:
        return None, f"not a DHIS2 export ({suffix or 'no extension'})"
    head = _head(path).lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix == ".json" or head[:1] in (b"{", b"["):
        return _json_kind(head)
    if suffix in (".xml", ".adx") or head[:1] == b"<":
        return _xml_kind(head)
    return _csv_kind(head)


def _json_kind(head: bytes) -> tuple[str | None, str]:
    match = FIRST_LIST.search(head)
    first = match.group(1).decode() if match else ""
    if first in TYPES:
        return METADATA, ""
    if first == "completeDataSetRegistrations":
        return REGISTRATIONS, ""
    if first in TRACKER_KEYS:
        return None, "a tracker export (the aggregate load does not use it)"
    return DATA_VALUES, ""  # data values, analytics, or an error the reader will name


def _xml_kind(head: bytes) -> tuple[str | None, str]:
    text = head.decode("utf-8", "ignore")
    if "<metadata" in text:
        return METADATA, ""
    if "completeDataSetRegistration" in text:
        return REGISTRATIONS, ""
    return DATA_VALUES, ""


def _csv_kind(head: bytes) -> tuple[str | None, str]:
    line = head.decode("utf-8", "ignore").splitlines()[0] if head else ""
    names = {re.sub(r"[^a-z]", "", cell.lower()) for cell in line.split(",")}
    if {"district", "period", "heatwavedays"} <= names:
        return None, "a district-month climate file (read through the mapping's facility.climate)"
    if "dataelement" in names or "data" in names:
        return DATA_VALUES, ""
    if {"event", "trackedentity", "trackedentityinstance", "programstage"} & names:
        return None, "a tracker export (the aggregate load does not use it)"
    if "dataset" in names:
        return REGISTRATIONS, ""
    if "uid" in names or {"name", "parent"} <= names:
        return METADATA, ""
    return DATA_VALUES, ""
