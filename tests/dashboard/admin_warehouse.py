"""A warehouse for the administrative (DHIS2) views, built by the real loaders.

DHIS2: the hand-made Baghdad instance of `tests/etl/dhis2/tiny_instance.py` (2024, two
districts). Registry: a hand-made export for the same districts, so the registry-vs-DHIS2
triangulation has rows: Penta1 given in January and February 2024 to the children below
(every other registry figure is beside the point here).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from etl.dhis2.load import load_dhis2
from etl.load import load_registry
from tests.etl.dhis2 import tiny_instance

D1, D2, GOVERNORATE = "IQG08Q01", "IQG08Q02", "IQG08"
AS_OF = date(2024, 12, 31)
# district -> month -> registry Penta1 doses (each child born two months before)
REGISTRY_PENTA1 = {D1: {1: 80, 2: 100}, D2: {1: 66, 2: 50}}


def write_registry(folder: Path) -> Path:
    """children.csv, vaccinations.csv and manifest.json for REGISTRY_PENTA1."""
    folder.mkdir(parents=True, exist_ok=True)
    children = ["health_id,birth_date,adm1_code,adm2_code,sex"]
    doses = ["health_id,vaccine,dose_date"]
    number = 0
    for district, months in REGISTRY_PENTA1.items():
        for month, count in months.items():
            born = f"2023-{month + 10:02d}-05"
            for _ in range(count):
                number += 1
                child = f"C{number:05d}"
                children.append(f"{child},{born},{GOVERNORATE},{district},{'FM'[number % 2]}")
                doses.append(f"{child},PENTA1,2024-{month:02d}-12")
    (folder / "children.csv").write_text("\n".join(children) + "\n")
    (folder / "vaccinations.csv").write_text("\n".join(doses) + "\n")
    manifest = {"as_of": AS_OF.isoformat(), "source": "test registry"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def build(folder: Path, url: str) -> str:
    """Load the registry, then the DHIS2 instance (which computes the triangulation)."""
    load_registry(write_registry(folder / "registry"), url)
    load_dhis2(tiny_instance.write(folder / "dhis2"), url)
    return url
