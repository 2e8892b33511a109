"""benchmarks/pandas_baseline.py against the real pipeline (etl.registry + indicators.cohort):
the same rejected rows under the same rules, the same duplicates and the same cube, row for row.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.pandas_baseline import checked_registry, main, pandas_cube
from etl.generate import generate
from etl.registry import RegistryExtract, read_registry
from indicators import geography
from indicators.cohort import cohort_cube

ORDER = ["indicator", "period", "org_unit_level", "org_unit", "sex", "disability"]


@pytest.fixture(scope="module", params=["csv", "parquet"])
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated registry, bad rows included."""
    folder = tmp_path_factory.mktemp(f"registry-{request.param}")
    generate(folder, children=3000, seed=5, fmt=request.param)
    return folder


def our_cube(extract: RegistryExtract) -> pd.DataFrame:
    """The pipeline's cube, as etl/load.py builds it."""
    districts = extract.children.get_column("adm2_code").unique().to_list()
    units = geography.org_units(districts)
    return cohort_cube(extract.children, extract.doses, extract.as_of, units).to_pandas()


def assert_same_cube(folder: Path, extract: RegistryExtract) -> None:
    ours = our_cube(extract).sort_values(ORDER, ignore_index=True)
    theirs = pandas_cube(folder, extract.as_of).sort_values(ORDER, ignore_index=True)
    assert list(theirs.columns) == list(ours.columns)
    assert len(ours) > 0
    pd.testing.assert_frame_equal(theirs, ours)


def assert_same_rejects(folder: Path, extract: RegistryExtract) -> None:
    registry = checked_registry(folder, extract.as_of)
    theirs = []
    for table, frame in (("children", registry.children), ("vaccinations", registry.doses)):
        rejected = frame[frame["rule"].notna()]
        theirs += [
            (table, line, str(rule))
            for line, rule in zip(rejected["line"], rejected["rule"], strict=True)
        ]
    rows = extract.rejects.select("file", "line", "rule").iter_rows()
    ours = [(file.split(".")[0], line, rule) for file, line, rule in rows]
    assert sorted(theirs) == sorted(ours)
    assert int(registry.doses["duplicate"].sum()) == extract.accounts["vaccinations"].duplicates
    assert len(registry.loaded_children) == extract.children.height
    assert len(registry.loaded_doses) == extract.doses.height


def test_generated_registry_gives_the_same_rejects(generated: Path) -> None:
    extract = read_registry(generated)
    assert extract.rejects.height > 0  # the generator's bad rows are there
    assert extract.accounts["vaccinations"].duplicates > 0
    assert_same_rejects(generated, extract)


def test_generated_registry_gives_the_same_cube(generated: Path) -> None:
    assert_same_cube(generated, read_registry(generated))


def test_without_boundary_pack(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "registry"
    generate(folder, children=1500, seed=7, fmt="csv")
    extract = read_registry(folder)
    assert_same_rejects(folder, extract)
    assert_same_cube(folder, extract)


CHILDREN_HEADER = (
    "\ufeff Health_ID ,BIRTH_DATE,registration_date,Sex,disability,adm1_code,adm2_code,"
    "death_date,note\n"
)
CHILDREN_CSV = (
    CHILDREN_HEADER
    + """A1,2020-02-29,2020-03-30,female,YES,IQG08,IQG08Q01,,x
A2,2020-02-29,2020-03-31,m,no,IQG08,IQG08Q01,2021-02-27,
A3,2020-05-10,,,,IQG08,IQG08Q02,2021-05-10,
A4,2021-01-15,2021-01-16,F,no,IQG02,IQG02Q01,,,overlong
A4,2021-01-15,2021-01-16,F,no,IQG02,IQG02Q01,,
A5,2021-2-01,,F,no,IQG02,IQG02Q01,,
A6,2021-03-01,,U,unknown,IQG02,IQG08Q01,,
A7,2021-03-01,,M,no,IQG02
" A8 ",2021-04-01,2021-03-31,M,no,IQG02,IQG02Q01,,
A9,2021-04-01,,X,no,IQG02,IQG02Q01,,
A10,1989-12-31,,M,no,IQG02,IQG02Q01,,
A11,2021-06-01,,M,no,IQG99,IQG02Q01,,
A12,2021-07-01,,M,no,IQG02,IQG02Q01,2021-06-30,
"""
)
VACCINATIONS_CSV = """health_id,vaccine,dose_date,facility_id
A1,bcg,2020-02-29,F1
A1, penta1 ,2021-02-27,F1
A1,PENTA3,2021-02-28,F1
A2,PENTA1,2020-05-01,F1
A2,PENTA1,2020-05-01,F2
A2,PENTA1,2020-04-30,F2
A3,MCV1,2021-06-01,F1
A3,MCV1,2021-02-01,F1
A4,PENTA1,2021-03-20,F1
A5,PENTA1,2021-03-20,F1
Z9,PENTA1,2021-03-20,F1
A6,PENTA9,2021-03-20,F1
A6,,2021-03-20,F1
A8,PENTA1,2021-03-20
A12,BCG,2021-07-01,F1
A1,PENTA2,2020-02-28,F1
A1,PENTA2,2022-07-01,F1
A1,OPV1,2020-13-01,F1
A1,OPV1,,F1,extra
"""


def test_hand_written_csv_edge_cases(no_geo_pack: Path, tmp_path: Path) -> None:
    """BOM, header case and spaces, rows longer and shorter than the header, quoted spaces,
    every kind of date and code problem, leap-day anniversaries, deaths, duplicates."""
    (tmp_path / "children.csv").write_text(CHILDREN_CSV, encoding="utf-8")
    (tmp_path / "vaccinations.csv").write_text(VACCINATIONS_CSV, encoding="utf-8")
    extract = read_registry(tmp_path, as_of=datetime.date(2022, 6, 30))
    assert {"field_count", "health_id_duplicate", "adm2_code_missing"} <= set(
        extract.rejects["rule"]
    )
    assert_same_rejects(tmp_path, extract)
    assert_same_cube(tmp_path, extract)


def test_cli_prints_one_json_line(generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(generated)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert set(report["seconds"]) == {"read", "validate", "link", "cube"}
    assert report["as_of"] == "2026-06-30"  # from the manifest
    assert report["rows"] == len(our_cube(read_registry(generated)))
    assert report["input"]["children"] > 3000
    assert report["total"] >= sum(report["seconds"].values()) - 0.01
    assert report["peak_rss_mb"] > 0
