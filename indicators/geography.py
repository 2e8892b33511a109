"""The organisation-unit hierarchy: Iraq → 18 governorates → districts.

The deployment supplies the boundary pack (OCHA COD-AB files in `MIZAN_GEO_DIR`). Without it
Mizan still knows the 18 governorates from the small built-in list below, so governorate
views work; districts are then known only by the codes the data carries.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from indicators import config

NATIONAL = "IQ"
NATIONAL_NAME = "Iraq"
ADM1_FILE = "iraq_adm1.geojson"
ADM2_FILE = "iraq_adm2.geojson"
ADM2_LIST = "iraq_adm2.csv"
POPULATION_FILE = "iraq_population_adm1.csv"

ATTRIBUTION = (
    "Administrative boundaries: Central Statistics Organization (CSO) Iraq and UN OCHA Iraq, "
    "Common Operational Dataset (COD-AB) irq_admbnda_*_cso_20190603, via the Humanitarian "
    "Data Exchange (HDX), CC BY-IGO. Geometry simplified. The boundaries and names shown do "
    "not imply official endorsement or acceptance."
)

# ISO 3166-2 codes, OCHA p-codes, names and approximate centroids (lat, lon) of the 18
# governorates: enough for governorate views when no boundary pack is installed.
GOVERNORATES: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("IQG01", "IQ-AN", "Anbar", "الانبار", 33.2, 42.7),
    ("IQG02", "IQ-BA", "Basrah", "البصرة", 30.3, 47.6),
    ("IQG03", "IQ-MU", "Muthanna", "المثنى", 30.9, 45.3),
    ("IQG04", "IQ-NA", "Najaf", "النجف", 31.5, 43.9),
    ("IQG05", "IQ-QA", "Qadisiyah", "القادسية", 31.9, 45.0),
    ("IQG06", "IQ-SU", "Sulaymaniyah", "السليمانية", 35.6, 45.5),
    ("IQG07", "IQ-BB", "Babil", "بابل", 32.5, 44.5),
    ("IQG08", "IQ-BG", "Baghdad", "بغداد", 33.3, 44.3),
    ("IQG09", "IQ-DA", "Duhok", "دهوك", 37.1, 43.2),
    ("IQG10", "IQ-DI", "Diyala", "ديالى", 34.2, 45.2),
    ("IQG11", "IQ-AR", "Erbil", "اربيل", 36.4, 44.3),
    ("IQG12", "IQ-KA", "Karbala", "كربلاء", 32.6, 44.0),
    ("IQG13", "IQ-KI", "Kirkuk", "كركوك", 35.4, 44.2),
    ("IQG14", "IQ-MA", "Maysan", "ميسان", 32.1, 47.1),
    ("IQG15", "IQ-NI", "Ninewa", "نينوى", 36.3, 43.1),
    ("IQG16", "IQ-SD", "Salah al-Din", "صلاح الدين", 34.7, 44.0),
    ("IQG17", "IQ-DQ", "Dhi Qar", "ذي قار", 31.5, 46.3),
    ("IQG18", "IQ-WA", "Wasit", "واسط", 32.7, 45.7),
)

DISTRICT_CODE = re.compile(r"^(IQG\d\d)Q\d\d$")

ORG_UNIT_SCHEMA = {
    "code": pl.String,
    "level": pl.Int8,
    "parent": pl.String,
    "adm1_code": pl.String,
    "name_en": pl.String,
    "name_ar": pl.String,
    "lat": pl.Float64,
    "lon": pl.Float64,
}


@dataclass(frozen=True)
class BoundaryPack:
    """Where the boundary files are, if the deployment has them."""

    directory: Path

    @property
    def available(self) -> bool:
        return (self.directory / ADM2_LIST).is_file() and (self.directory / ADM1_FILE).is_file()

    def path(self, name: str) -> Path | None:
        candidate = self.directory / name
        return candidate if candidate.is_file() else None


def boundary_pack() -> BoundaryPack:
    return BoundaryPack(config.geo_dir())


@cache
def _districts(directory: Path) -> tuple[tuple[str, str, str, str], ...]:
    """(code, adm1_code, name_en, name_ar) per district, from the pack's ADM2 list."""
    with (directory / ADM2_LIST).open(encoding="utf-8-sig", newline="") as handle:
        return tuple(
            (row["code"], row["adm1_code"], row["name_en"], row["name_ar"])
            for row in csv.DictReader(handle)
        )


def districts() -> dict[str, str]:
    """District code → governorate code, or an empty dict without the boundary pack."""
    pack = boundary_pack()
    if not pack.available:
        return {}
    return {code: adm1 for code, adm1, _, _ in _districts(pack.directory)}


def governorate_codes() -> frozenset[str]:
    return frozenset(row[0] for row in GOVERNORATES)


def district_parent(code: str) -> str | None:
    """The governorate of a district code, by the pack's list or, without it, by p-code form."""
    known = districts()
    if known:
        return known.get(code)
    match = DISTRICT_CODE.match(code)
    return match.group(1) if match and match.group(1) in governorate_codes() else None


def org_units(extra_districts: list[str] | None = None) -> pl.DataFrame:
    """Every org unit with level, parent and names.

    Without the boundary pack, districts named in the data (`extra_districts`) are listed
    under their code so that tables still have rows for them.
    """
    rows = [(NATIONAL, 0, None, None, NATIONAL_NAME, "العراق", 33.2, 43.7)]
    rows += [
        (code, 1, NATIONAL, code, en, ar, lat, lon) for code, _, en, ar, lat, lon in GOVERNORATES
    ]
    pack = boundary_pack()
    if pack.available:
        rows += [
            (code, 2, adm1, adm1, en, ar, None, None)
            for code, adm1, en, ar in _districts(pack.directory)
        ]
    else:
        for code in sorted(set(extra_districts or [])):
            parent = district_parent(code)
            if parent:
                rows.append((code, 2, parent, parent, code, code, None, None))
    return pl.DataFrame(rows, schema=ORG_UNIT_SCHEMA, orient="row")


def geojson(level: int) -> dict | None:
    """The pack's boundaries for level 1 or 2, or None when the pack is not installed."""
    path = boundary_pack().path(ADM1_FILE if level == 1 else ADM2_FILE)
    if path is None:
        return None
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def populations() -> pl.DataFrame | None:
    """Governorate populations from the pack (`adm1_code`, `population`), if present."""
    path = boundary_pack().path(POPULATION_FILE)
    if path is None:
        return None
    frame = pl.read_csv(path, columns=["adm1_code", "population_total"], infer_schema=False)
    return frame.select(
        pl.col("adm1_code"), pl.col("population_total").cast(pl.Int64).alias("population")
    )
