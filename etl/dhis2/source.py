"""Getting text out of a DHIS2 export file safely, whatever arrives.

Shared by every reader: bytes (gzip/zip as DHIS2's `compression=` gives them, with a size
cap), UTF-8 text (BOM allowed, UTF-16 with a BOM too), JSON (depth errors caught), XML
through defusedxml with DTDs forbidden (no entity expansion, no external entities, so a
billion-laughs or XXE file is refused rather than expanded), and CSV records with their line
numbers. Every failure becomes a one-line `Dhis2Error` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from etl.dhis2.problems import Dhis2Error

MAX_BYTES = 2 * 1024**3  # decompressed size cap: a zip bomb stops here
JSON, XML, CSV = "json", "xml", "csv"
EXTENSIONS = {".json": JSON, ".xml": XML, ".adx": XML, ".csv": CSV}


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzip or zip."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise Dhis2Error(file, f"cannot be read: {error.strerror or error}") from error
    if data[:2] == b"\x1f\x8b":
        return _gunzip(file, data)
    if data[:4] == b"PK\x03\x04":
        return _unzip(file, data)
    return data


def _gunzip(file: str, data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(MAX_BYTES + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise Dhis2Error(file, f"broken gzip data: {error}") from error
    if len(out) > MAX_BYTES:
        raise Dhis2Error(file, f"decompresses to more than {MAX_BYTES:,} bytes")
    return out


def _unzip(file: str, data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise Dhis2Error(file, f"a zip must hold exactly one file, not {len(members)}")
            with archive.open(members[0]) as stream:
                out = stream.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        raise Dhis2Error(file, f"broken zip data: {error}") from error
    if len(out) > MAX_BYTES:
        raise Dhis2Error(file, f"decompresses to more than {MAX_BYTES:,} bytes")
    return out


def decode(file: str, data: bytes) -> str:
    """UTF-8 text (a UTF-8 BOM is dropped; a UTF-16 BOM switches to UTF-16). NUL characters
    are refused: no DHIS2 text holds one, and UTF-16 without a BOM would otherwise pass."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Dhis2Error(
            file, f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from error
    if "\x00" in text:
        offset = text.index("\x00")
        raise Dhis2Error(file, f"not UTF-8 text (NUL character at offset {offset})")
    return text


def sniff(path: Path, data: bytes) -> str:
    """`json`, `xml` or `csv`: from the first non-blank character, else the extension."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return JSON
    if head[:1] == b"<":
        return XML
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".zip")]
    return EXTENSIONS.get(suffixes[-1] if suffixes else "", CSV)


def load_json(file: str, text: str) -> Any:
    """Parsed JSON; syntax errors and absurd nesting become a `Dhis2Error`."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise Dhis2Error(
            file, f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from error
    except RecursionError as error:
        raise Dhis2Error(file, "not valid JSON: nested too deeply") from error
    except ValueError as error:
        raise Dhis2Error(file, f"not valid JSON: {error}") from error


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def iter_xml(file: str, data: bytes) -> Iterator[tuple[str, Element]]:
    """(`start`|`end`, element) events, parsed safely: DTDs and entities are refused."""
    try:
        yield from safe_xml.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
    except DefusedXmlException as error:
        reason = f"XML refused: {type(error).__name__} (DTDs and entities are not allowed)"
        raise Dhis2Error(file, reason) from error
    except ParseError as error:
        raise Dhis2Error(file, f"not valid XML: {error}") from error
    except (ValueError, RecursionError) as error:
        raise Dhis2Error(file, f"not valid XML: {error}") from error


def local_name(tag: object) -> str:
    """An element or attribute name without its namespace (`{ns}dataValue` -> `dataValue`)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def key(name: str) -> str:
    """A field name as compared: lower case, letters and digits only (`Org Unit` -> orgunit)."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def csv_records(file: str, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, trimmed fields) of each non-blank CSV record; header = line 1.

    Fields are trimmed because DHIS2 test files pad them (`"a",   "b"`); a blank record is
    skipped, not counted.
    """
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    line = 1
    try:
        for fields in reader:
            start, line = line, reader.line_num + 1
            trimmed = [field.strip() for field in fields]
            if any(trimmed):
                yield start, trimmed
    except csv.Error as error:
        raise Dhis2Error(file, f"not valid CSV at line {reader.line_num}: {error}") from error
