"""A registry export written here (not by our generator) goes through `python -m etl load` and
`export`; the CSV must equal the independent computation in tests/reference.py row for row,
with no small cell published and none recoverable by subtraction."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from etl.cli import main
from tests import reference

AS_OF = date(2025, 3, 31)
DISTRICTS = ["IQG08Q01", "IQG08Q02", "IQG02Q01", "IQG02Q03", "IQG15Q01"]
VACCINES = ["BCG", "PENTA1", "PENTA2", "PENTA3", "OPV1", "OPV2", "OPV3", "PCV3", "MCV1", "MCV2"]
DUE = {"BCG": 0, "PENTA1": 61, "PENTA2": 122, "PENTA3": 183, "OPV1": 61, "OPV2": 122,
       "OPV3": 183, "PCV3": 183, "MCV1": 274, "MCV2": 548}  # fmt: skip


def make_registry(rng: random.Random, n: int) -> tuple[list[dict], list[dict]]:
    """Clean children and doses; district and disability skewed so that small cells occur."""
    children, doses = [], []
    for i in range(n):
        birth = date(2022, 1, 1) + timedelta(days=rng.randrange(0, 3 * 365))
        district = rng.choices(DISTRICTS, weights=[40, 30, 20, 8, 2])[0]
        death = birth + timedelta(days=rng.randrange(0, 900)) if rng.random() < 0.02 else None
        reg = birth + timedelta(days=int(rng.expovariate(1 / 15))) if rng.random() < 0.95 else None
        child = {
            "health_id": f"H{i:06d}",
            "birth_date": birth,
            "registration_date": reg if reg and reg <= AS_OF else None,
            "sex": rng.choices(["F", "M", "U"], weights=[48, 50, 2])[0],
            "disability": rng.choices(["yes", "no", "unknown"], weights=[5, 90, 5])[0],
            "adm1_code": district[:5],
            "adm2_code": district,
            "death_date": death if death and death <= AS_OF else None,
        }
        children.append(child)
        reach = (
            0.93 - (0.1 if child["disability"] == "yes" else 0) - (0.15 * (district[:5] == "IQG15"))
        )
        for vaccine in VACCINES:
            if rng.random() > reach:
                continue
            when = birth + timedelta(days=DUE[vaccine] + int(rng.expovariate(1 / 40)))
            if when <= AS_OF and (child["death_date"] is None or when <= child["death_date"]):
                doses.append(
                    {"health_id": child["health_id"], "vaccine": vaccine, "dose_date": when}
                )
    return children, doses


def write_export(folder: Path, children: list[dict], doses: list[dict]) -> dict[str, int]:
    """CSV files as a registry would send them, with a few bad and duplicate rows added."""
    folder.mkdir()
    text = lambda d: d.isoformat() if d else ""  # noqa: E731
    with (folder / "children.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([" Health_ID", "BIRTH_DATE", "registration_date", "Sex", "disability",
                      "adm1_code", "adm2_code", "death_date", "mother_name"])  # fmt: skip
        for c in children:
            sex = {"F": "female", "M": "M", "U": ""}[c["sex"]]
            disability = "" if c["disability"] == "unknown" else c["disability"]
            dates = [text(c["birth_date"]), text(c["registration_date"])]
            out.writerow(
                [c["health_id"], *dates, sex, disability, c["adm1_code"], c["adm2_code"],
                 text(c["death_date"]), "=HYPERLINK(x)"]
            )  # fmt: skip
        out.writerow(["H000001", "2023-01-01", "", "F", "no", "IQG08", "IQG08Q01", "", ""])
        out.writerow(["BAD1", "2023-02-30", "", "F", "no", "IQG08", "IQG08Q01", "", ""])
        out.writerow(["BAD2", "2023-02-01", "", "F", "no", "IQG08", "IQG02Q01", "", ""])
    with (folder / "vaccinations.csv").open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["health_id", "vaccine", "dose_date"])
        for d in doses:
            out.writerow([d["health_id"], d["vaccine"].lower(), text(d["dose_date"])])
        later = doses[0]["dose_date"] + timedelta(days=3)
        out.writerow([doses[0]["health_id"], doses[0]["vaccine"], text(later)])
        out.writerow(["BAD1", "BCG", "2023-03-01"])
        out.writerow(["NOBODY", "BCG", "2023-03-01"])
        out.writerow([doses[0]["health_id"], "YELLOWFEVER", "2023-03-01"])
    (folder / "manifest.json").write_text(json.dumps({"as_of": AS_OF.isoformat(), "source": "t"}))
    return {"children_rejected": 3, "vaccinations_rejected": 3, "duplicates": 1}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rng = random.Random(20251125)
    children, doses = make_registry(rng, 2500)
    base = tmp_path_factory.mktemp("e2e")
    expected_bad = write_export(base / "export", children, doses)
    geo = base / "no-geo"
    geo.mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("MIZAN_GEO_DIR", str(geo))
    url = f"sqlite:///{base / 'w.db'}"
    report = base / "report.json"
    assert (
        main(["load", "--registry", str(base / "export"), "--db", url, "--report", str(report)])
        == 0
    )
    assert main(["export", str(base / "out.csv"), "--db", url]) == 0
    mp.undo()
    raw = (base / "out.csv").read_bytes()
    return {
        "raw": raw,
        "rows": list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))),
        "report": json.loads(report.read_text()),
        "expected": reference.compute(children, doses, AS_OF),
        "bad": expected_bad,
        "n_children": len(children),
        "n_doses": len(doses),
    }


def test_report_accounts_for_every_row(exported: dict) -> None:
    files = exported["report"]["files"]
    assert exported["report"]["as_of"] == AS_OF.isoformat()
    assert files["children"] == {
        "rows_read": exported["n_children"] + 3,
        "rows_loaded": exported["n_children"],
        "rows_rejected": 3,
        "duplicates": 0,
    }
    assert files["vaccinations"] == {
        "rows_read": exported["n_doses"] + 4,
        "rows_loaded": exported["n_doses"],
        "rows_rejected": 3,
        "duplicates": 1,
    }
    rules = sorted((r["file"], r["line"], r["rule"]) for r in exported["report"]["rejects"])
    n = exported["n_children"]
    assert rules[:3] == [
        ("children.csv", n + 2, "health_id_duplicate"),
        ("children.csv", n + 3, "birth_date_invalid"),
        ("children.csv", n + 4, "adm2_not_in_adm1"),
    ]
    assert {r[2] for r in rules[3:]} == {"child_rejected", "unknown_child", "vaccine_unknown"}


def test_csv_is_the_contract_layout(exported: dict) -> None:
    assert exported["raw"].startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in exported["raw"]
    header = exported["raw"].decode("utf-8-sig").split("\n", 1)[0]
    assert header == (
        "indicator,indicator_name,period,org_unit,org_unit_level,org_unit_name,sex,disability,"
        "numerator,denominator,value,ci_low,ci_high,suppressed,flags,source,as_of,"
        "definition_version"
    )
    level_of = {2: "0", 5: "1", 8: "2"}
    keys = [
        (r["indicator"], r["period"], r["org_unit_level"], r["org_unit"], r["sex"], r["disability"])
        for r in exported["rows"]
    ]
    assert keys == sorted(keys)
    for row in exported["rows"]:
        assert row["org_unit_level"] == level_of[len(row["org_unit"])]
        assert row["as_of"] == AS_OF.isoformat() and row["source"] == "registry"


def test_every_cell_matches_the_independent_computation(exported: dict) -> None:
    rows = {
        (r["indicator"], r["period"], r["org_unit"], r["sex"], r["disability"]): r
        for r in exported["rows"]
    }
    assert set(rows) == set(exported["expected"])
    published = 0
    for key, (numerator, denominator) in exported["expected"].items():
        row = rows[key]
        if row["suppressed"] == "true":
            assert row["numerator"] == "" and row["value"] == "" and row["ci_low"] == ""
            assert row["denominator"] in ("", str(denominator))
            continue
        published += 1
        assert (int(row["numerator"]), int(row["denominator"])) == (numerator, denominator), key
        assert float(row["value"]) == pytest.approx(100 * numerator / denominator, abs=1e-4)
        if numerator >= 0:
            low, high = reference.wilson(numerator, denominator)
            assert float(row["ci_low"]) == pytest.approx(low, abs=1e-4)
            assert float(row["ci_high"]) == pytest.approx(high, abs=1e-4)
        flags = set(filter(None, row["flags"].split(";")))
        assert ("low_denominator" in flags) == (denominator < 25)
        assert ("caution" in flags) == (25 <= denominator < 50)
    # the leadership view mostly survives suppression: national yearly totals are published,
    # bar a few hidden because a related count is small (e.g. a dropout of 3 hides Penta3)
    national = [r for k, r in rows.items() if k[2:] == ("IQ", "all", "all")]
    yearly = [r for r in national if len(r["period"]) == 4 and int(r["denominator"] or 0) >= 50]
    hidden = [(r["indicator"], r["period"]) for r in yearly if r["suppressed"] == "true"]
    assert len(yearly) >= 25 and len(hidden) <= len(yearly) / 10, hidden
    assert published > len(rows) / 10


def test_no_small_cell_is_published(exported: dict) -> None:
    suppressed = 0
    for row in exported["rows"]:
        for column in ("numerator", "denominator"):
            if row[column]:
                assert not 1 <= int(row[column]) <= 4, row
        suppressed += row["suppressed"] == "true"
    assert suppressed > 0  # the data does have small cells, so the rule was exercised


def test_no_suppressed_count_is_recoverable_by_subtraction(exported: dict) -> None:
    """In every group (a total and its parts along sex, disability or geography), a hidden
    numerator or denominator never stands alone: one hidden cell would equal total − rest."""
    rows = {
        (r["indicator"], r["period"], r["org_unit"], r["sex"], r["disability"]): r
        for r in exported["rows"]
    }
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for (code, period, org, sex, dis), row in rows.items():
        if sex != "all":
            groups[("sex", code, period, org, dis)].append(row)
        if dis != "all":
            groups[("dis", code, period, org, sex)].append(row)
        parent = "IQ" if len(org) == 5 else org[:5] if len(org) == 8 else None
        if parent:
            groups[("geo", code, period, parent, sex, dis)].append(row)
    checked = 0
    for key, parts in groups.items():
        kind, code, period, *rest = key
        if kind == "sex":
            total = rows.get((code, period, rest[0], "all", rest[1]))
        elif kind == "dis":
            total = rows.get((code, period, rest[0], rest[1], "all"))
        else:
            total = rows.get((code, period, *rest))
        cells = [total, *parts]
        for column in ("numerator", "denominator"):
            hidden = sum(1 for c in cells if c is not None and c[column] == "")
            assert hidden != 1, (key, column)
            checked += 1
    assert checked > 1000
