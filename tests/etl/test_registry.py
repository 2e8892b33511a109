"""etl/registry.py against the input contract (../shared/spec/registry-export.md).

Each test writes a tiny registry export to tmp_path, by hand, and checks real values: which
rows load, which are rejected with which rule at which line, and that every row is counted.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from etl.registry import (
    CHILDREN_RULES,
    CHILDREN_SCHEMA,
    REJECTS_SCHEMA,
    VACCINATIONS_RULES,
    VACCINATIONS_SCHEMA,
    RegistryError,
    RegistryExtract,
    _children_checks,
    _dose_checks,
    read_registry,
)

AS_OF = datetime.date(2024, 6, 30)
CHILD = {
    "health_id": "C0",
    "birth_date": "2023-01-10",
    "registration_date": "2023-01-20",
    "sex": "F",
    "disability": "no",
    "adm1_code": "IQG08",
    "adm2_code": "IQG08Q01",
    "settlement_id": "S1",
    "facility_id": "FAC00000001",
    "death_date": "",
}
DOSE = {"health_id": "C0", "vaccine": "BCG", "dose_date": "2023-01-10", "facility_id": "F1"}


def child(**changes: str) -> dict[str, str]:
    return {**CHILD, **changes}


def dose(**changes: str) -> dict[str, str]:
    return {**DOSE, **changes}


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_parquet(path: Path, rows: list[dict[str, str]]) -> None:
    pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String)).write_parquet(path)


def make_registry(
    folder: Path,
    children: list[dict[str, str]],
    doses: list[dict[str, str]],
    fmt: str = "csv",
    manifest: dict | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write = write_csv if fmt == "csv" else write_parquet
    write(folder / f"children.{fmt}", children)
    write(folder / f"vaccinations.{fmt}", doses)
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def the_reject(extract: RegistryExtract) -> dict:
    """The one rejected row, with its raw values decoded."""
    assert extract.rejects.height == 1, extract.rejects
    row = extract.rejects.row(0, named=True)
    return {**row, "values": json.loads(row["values"])}


def assert_accounted(extract: RegistryExtract) -> None:
    """Every row in exactly one place, and the counts agree with the tables."""
    for name, frame in (("children", extract.children), ("vaccinations", extract.vaccinations)):
        account = extract.accounts[name]
        assert account.rows_read == (
            account.rows_loaded + account.rows_rejected + account.duplicates
        )
        assert account.rows_loaded == frame.height
        files = extract.rejects.filter(pl.col("file").str.starts_with(name))
        assert account.rows_rejected == files.height
    assert extract.accounts["children"].duplicates == 0


# --- the rules, one by one ----------------------------------------------------------------

CHILD_CASES = [
    ("health_id_missing", {"health_id": ""}),
    ("health_id_missing", {"health_id": "   "}),
    ("health_id_duplicate", {"health_id": "C0", "sex": "M"}),
    ("birth_date_missing", {"birth_date": ""}),
    ("birth_date_invalid", {"birth_date": "2023-02-29"}),
    ("birth_date_invalid", {"birth_date": "2023-1-5"}),
    ("birth_date_invalid", {"birth_date": "10/01/2023"}),
    ("birth_date_invalid", {"birth_date": "2023-01-10T00:00"}),
    ("birth_date_before_1990", {"birth_date": "1989-12-31", "registration_date": ""}),
    ("birth_date_after_as_of", {"birth_date": "2024-07-01", "registration_date": ""}),
    ("registration_date_invalid", {"registration_date": "2023-13-01"}),
    ("registration_before_birth", {"registration_date": "2023-01-09"}),
    ("registration_after_as_of", {"registration_date": "2024-07-01"}),
    ("death_date_invalid", {"death_date": "soon"}),
    ("death_before_birth", {"death_date": "2023-01-09"}),
    ("sex_invalid", {"sex": "X"}),
    ("sex_invalid", {"sex": "unknown"}),
    ("disability_invalid", {"disability": "maybe"}),
    ("adm1_code_missing", {"adm1_code": ""}),
    ("adm1_code_unknown", {"adm1_code": "IQG19"}),
    ("adm2_code_missing", {"adm2_code": ""}),
    ("adm2_code_unknown", {"adm2_code": "IQG08X01"}),
    ("adm2_code_unknown", {"adm2_code": "IQG19Q01", "adm1_code": "IQG08"}),
    ("adm2_not_in_adm1", {"adm2_code": "IQG09Q01"}),
]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(("rule", "changes"), CHILD_CASES)
def test_children_rule(
    no_geo_pack: Path, tmp_path: Path, fmt: str, rule: str, changes: dict[str, str]
) -> None:
    bad = {**child(health_id="C1"), **changes}
    folder = make_registry(tmp_path / "reg", [child(), bad], [dose()], fmt)

    extract = read_registry(folder, AS_OF)

    reject = the_reject(extract)
    assert reject["file"] == f"children.{fmt}"
    assert reject["line"] == (3 if fmt == "csv" else 2)
    assert reject["rule"] == rule
    assert reject["values"] == bad  # raw, untrimmed, every column
    assert extract.children["health_id"].to_list() == ["C0"]
    assert extract.accounts["children"].rows_rejected == 1
    assert_accounted(extract)


DOSE_CASES = [
    ("health_id_missing", {"health_id": " "}),
    ("vaccine_missing", {"vaccine": ""}),
    ("vaccine_unknown", {"vaccine": "MMR9"}),
    ("dose_date_missing", {"dose_date": ""}),
    ("dose_date_invalid", {"dose_date": "2023-02-29"}),
    ("child_rejected", {"health_id": "R1"}),
    ("unknown_child", {"health_id": "ZZ"}),
    ("unknown_child", {"health_id": "c0"}),  # ids are compared case-sensitively
    ("dose_before_birth", {"dose_date": "2023-01-09"}),
    ("dose_after_as_of", {"dose_date": "2024-07-01"}),
]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(("rule", "changes"), DOSE_CASES)
def test_vaccinations_rule(
    no_geo_pack: Path, tmp_path: Path, fmt: str, rule: str, changes: dict[str, str]
) -> None:
    children = [child(), child(health_id="R1", birth_date="2023-02-30")]
    bad = {**dose(vaccine="OPV0"), **changes}
    folder = make_registry(tmp_path / "reg", children, [dose(), bad], fmt)

    extract = read_registry(folder, AS_OF)

    reject = extract.rejects.filter(pl.col("file") == f"vaccinations.{fmt}")
    assert reject.select("line", "rule").rows() == [(3 if fmt == "csv" else 2, rule)]
    assert json.loads(reject["values"][0]) == bad
    assert extract.vaccinations.rows() == [("C0", "BCG", datetime.date(2023, 1, 10), "F1")]
    assert_accounted(extract)


def test_rule_lists_match_the_checks_in_order() -> None:
    assert [rule for rule, _ in _children_checks(AS_OF)] == list(CHILDREN_RULES)
    assert [rule for rule, _ in _dose_checks(AS_OF)] == list(VACCINATIONS_RULES)
    assert len(CHILDREN_RULES) == 19 and len(VACCINATIONS_RULES) == 10


def test_a_row_breaking_several_rules_gets_the_first(no_geo_pack: Path, tmp_path: Path) -> None:
    bad = child(health_id="C1", birth_date="2023-02-30", sex="X", adm1_code="")
    bad_dose = dose(health_id="ZZ", vaccine="NOPE", dose_date="never")
    folder = make_registry(tmp_path / "reg", [bad], [bad_dose])

    rejects = read_registry(folder, AS_OF).rejects

    assert rejects.select("file", "line", "rule").rows() == [
        ("children.csv", 2, "birth_date_invalid"),
        ("vaccinations.csv", 2, "vaccine_unknown"),
    ]


def test_duplicate_child_id_keeps_the_first_row(no_geo_pack: Path, tmp_path: Path) -> None:
    children = [child(sex="F"), child(health_id="C9"), child(sex="M"), child(sex="M")]
    folder = make_registry(tmp_path / "reg", children, [dose()])

    extract = read_registry(folder, AS_OF)

    assert extract.children.select("health_id", "sex").rows() == [("C0", "F"), ("C9", "F")]
    assert extract.rejects.select("line", "rule").rows() == [
        (4, "health_id_duplicate"),
        (5, "health_id_duplicate"),
    ]
    assert extract.vaccinations.height == 1  # the dose belongs to the loaded first row
    assert_accounted(extract)


def test_repeat_of_a_rejected_first_row_is_still_a_duplicate(
    no_geo_pack: Path, tmp_path: Path
) -> None:
    """The first row of an id is the candidate, even when it is rejected for another rule;
    the id then exists only on rejected rows, so its doses are `child_rejected`."""
    children = [child(), child(health_id="C1", birth_date="2023-02-30"), child(health_id="C1")]
    doses = [dose(), dose(health_id="C1")]
    folder = make_registry(tmp_path / "reg", children, doses)

    extract = read_registry(folder, AS_OF)

    assert extract.rejects.select("file", "line", "rule").rows() == [
        ("children.csv", 3, "birth_date_invalid"),
        ("children.csv", 4, "health_id_duplicate"),
        ("vaccinations.csv", 3, "child_rejected"),
    ]
    assert extract.children["health_id"].to_list() == ["C0"]
    assert_accounted(extract)


def test_health_ids_are_case_sensitive(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child(), child(health_id="c0")], [dose()])

    extract = read_registry(folder, AS_OF)

    assert extract.children["health_id"].to_list() == ["C0", "c0"]
    assert extract.rejects.height == 0


# --- normalising -------------------------------------------------------------------------


def test_bom_mixed_case_padded_headers_and_extra_column(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    header = " Health_ID ,BIRTH_DATE,Adm1_Code ,  adm2_code,Notes, Sex"
    text = f"\ufeff{header}\n  C0 , 2023-01-10 ,IQG08, IQG08Q01 ,hello,  male \n"
    (folder / "children.csv").write_text(text, encoding="utf-8")
    dose_text = "\ufeffHEALTH_ID,Vaccine ,Dose_Date\nC0, bcg ,2023-01-10\n"
    (folder / "vaccinations.csv").write_text(dose_text, encoding="utf-8")

    extract = read_registry(folder, AS_OF)

    assert extract.ignored_columns == {"children": ["notes"], "vaccinations": []}
    assert extract.children.row(0, named=True) == {
        "health_id": "C0",
        "birth_date": datetime.date(2023, 1, 10),
        "registration_date": None,
        "sex": "M",
        "disability": "unknown",
        "adm1_code": "IQG08",
        "adm2_code": "IQG08Q01",
        "settlement_id": None,
        "facility_id": None,
        "death_date": None,
    }
    assert extract.vaccinations.rows() == [("C0", "BCG", datetime.date(2023, 1, 10), None)]
    assert extract.rejects.height == 0


def test_crlf_line_endings(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose()])
    text = "health_id,vaccine,dose_date\r\nC0,BCG,2023-01-10\r\nC0,OPV0,2023-01-1x\r\n"
    (folder / "vaccinations.csv").write_bytes(text.encode())

    extract = read_registry(folder, AS_OF)

    assert extract.vaccinations["vaccine"].to_list() == ["BCG"]
    assert json.loads(extract.rejects["values"][0]) == {
        "health_id": "C0",
        "vaccine": "OPV0",
        "dose_date": "2023-01-1x",
    }


def test_sex_and_disability_spellings(no_geo_pack: Path, tmp_path: Path) -> None:
    spellings = [
        ("F", "yes", "F", "yes"),
        ("female", "YES", "F", "yes"),
        ("Male", "No", "M", "no"),
        ("m", "no", "M", "no"),
        ("", "", "U", "unknown"),
        ("U", "Unknown", "U", "unknown"),
        ("u", "unknown", "U", "unknown"),
    ]
    children = [
        child(health_id=f"C{i}", sex=sex, disability=dis)
        for i, (sex, dis, _, _) in enumerate(spellings)
    ]
    folder = make_registry(tmp_path / "reg", children, [dose()])

    extract = read_registry(folder, AS_OF)

    stored = extract.children.select("sex", "disability").rows()
    assert stored == [(sex, dis) for _, _, sex, dis in spellings]
    assert extract.rejects.height == 0


def test_only_required_columns(no_geo_pack: Path, tmp_path: Path) -> None:
    """Optional columns may be left out: they read as empty."""
    kid = {k: CHILD[k] for k in ("health_id", "birth_date", "adm1_code", "adm2_code")}
    shot = {k: DOSE[k] for k in ("health_id", "vaccine", "dose_date")}
    folder = make_registry(tmp_path / "reg", [kid], [shot])

    extract = read_registry(folder, AS_OF)

    assert extract.children.select("sex", "disability", "registration_date").row(0) == (
        "U",
        "unknown",
        None,
    )
    assert extract.vaccinations["facility_id"].to_list() == [None]


def test_output_schemas(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose(), dose(health_id="ZZ")])

    extract = read_registry(folder, AS_OF)

    assert extract.children.schema == pl.Schema(CHILDREN_SCHEMA)
    assert extract.vaccinations.schema == pl.Schema(VACCINATIONS_SCHEMA)
    assert extract.rejects.schema == pl.Schema(REJECTS_SCHEMA)


def test_leap_day_birth(no_geo_pack: Path, tmp_path: Path) -> None:
    children = [
        child(birth_date="2020-02-29", registration_date="2020-02-29"),
        child(health_id="C1", birth_date="2021-02-29", registration_date=""),
    ]
    doses = [dose(dose_date="2020-02-29")]
    folder = make_registry(tmp_path / "reg", children, doses)

    extract = read_registry(folder, AS_OF)

    assert extract.children["birth_date"].to_list() == [datetime.date(2020, 2, 29)]
    assert extract.rejects.select("line", "rule").rows() == [(3, "birth_date_invalid")]


def test_as_of_boundary_is_inclusive(no_geo_pack: Path, tmp_path: Path) -> None:
    on, after = AS_OF.isoformat(), (AS_OF + datetime.timedelta(days=1)).isoformat()
    children = [
        child(registration_date=on),
        child(health_id="C1", birth_date=on, registration_date=on),
        child(health_id="C2", birth_date=after, registration_date=""),
    ]
    doses = [dose(dose_date=on), dose(vaccine="OPV0", dose_date=after)]
    folder = make_registry(tmp_path / "reg", children, doses)

    extract = read_registry(folder, AS_OF)

    assert extract.children["health_id"].to_list() == ["C0", "C1"]
    assert extract.vaccinations["dose_date"].to_list() == [AS_OF]
    assert extract.rejects.select("file", "line", "rule").rows() == [
        ("children.csv", 4, "birth_date_after_as_of"),
        ("vaccinations.csv", 3, "dose_after_as_of"),
    ]


def test_dose_on_the_birth_date_is_allowed_the_day_before_is_not(
    no_geo_pack: Path, tmp_path: Path
) -> None:
    doses = [dose(dose_date="2023-01-10"), dose(vaccine="HEPB0", dose_date="2023-01-09")]
    folder = make_registry(tmp_path / "reg", [child()], doses)

    extract = read_registry(folder, AS_OF)

    assert extract.vaccinations.select("vaccine", "dose_date").rows() == [
        ("BCG", datetime.date(2023, 1, 10))
    ]
    assert extract.rejects.select("line", "rule").rows() == [(3, "dose_before_birth")]


# --- duplicates and accounting -----------------------------------------------------------


def test_duplicate_dose_keeps_the_earliest_and_counts_the_rest(
    no_geo_pack: Path, tmp_path: Path
) -> None:
    doses = [
        dose(dose_date="2023-02-01", facility_id="F2"),
        dose(vaccine="bcg", dose_date="2023-01-15", facility_id="F3"),  # earliest, lowest line
        dose(vaccine=" BCG ", dose_date="2023-01-15", facility_id="F4"),  # tie, later line
        dose(vaccine="OPV0", dose_date="2023-01-20", facility_id="F5"),
        dose(dose_date="2023-01-11", facility_id="F6", health_id="ZZ"),  # rejected, not a dup
    ]
    folder = make_registry(tmp_path / "reg", [child()], doses)

    extract = read_registry(folder, AS_OF)

    assert extract.vaccinations.rows() == [
        ("C0", "BCG", datetime.date(2023, 1, 15), "F3"),
        ("C0", "OPV0", datetime.date(2023, 1, 20), "F5"),
    ]
    account = extract.accounts["vaccinations"]
    assert (account.rows_read, account.rows_loaded) == (5, 2)
    assert (account.rows_rejected, account.duplicates) == (1, 2)
    assert extract.rejects["rule"].to_list() == ["unknown_child"]  # duplicates are not rejects
    assert_accounted(extract)


def test_an_invalid_earlier_dose_does_not_make_the_valid_one_a_duplicate(
    no_geo_pack: Path, tmp_path: Path
) -> None:
    doses = [dose(dose_date="2023-01-01"), dose(dose_date="2023-03-01")]
    folder = make_registry(tmp_path / "reg", [child()], doses)

    extract = read_registry(folder, AS_OF)

    assert extract.vaccinations["dose_date"].to_list() == [datetime.date(2023, 3, 1)]
    assert extract.rejects.select("line", "rule").rows() == [(2, "dose_before_birth")]
    assert extract.accounts["vaccinations"].duplicates == 0


def test_accounting_on_a_mixed_registry(no_geo_pack: Path, tmp_path: Path) -> None:
    children = [
        child(),
        child(health_id="C1", birth_date="2022-05-05", registration_date=""),
        child(health_id="C1"),
        child(health_id="C2", sex="?"),
        child(health_id="C3", adm1_code="IQG02", adm2_code="IQG02Q03", death_date="2024-01-01"),
    ]
    doses = [
        dose(),
        dose(dose_date="2023-01-12"),
        dose(health_id="C1", dose_date="2022-05-05"),
        dose(health_id="C1", vaccine="PENTA1", dose_date="2022-07-05"),
        dose(health_id="C2"),
        dose(health_id="C3", vaccine="MCV1", dose_date="2023-10-10"),
        dose(health_id="C3", vaccine="MCV1", dose_date="2023-10-10"),
        dose(health_id="C3", vaccine="", dose_date="2023-10-10"),
    ]
    folder = make_registry(tmp_path / "reg", children, doses)

    extract = read_registry(folder, AS_OF)

    assert vars(extract.accounts["children"]) == {
        "rows_read": 5,
        "rows_loaded": 3,
        "rows_rejected": 2,
        "duplicates": 0,
    }
    assert vars(extract.accounts["vaccinations"]) == {
        "rows_read": 8,
        "rows_loaded": 4,
        "rows_rejected": 2,
        "duplicates": 2,
    }
    assert extract.rejects.select("file", "line", "rule").rows() == [
        ("children.csv", 4, "health_id_duplicate"),
        ("children.csv", 5, "sex_invalid"),
        ("vaccinations.csv", 6, "child_rejected"),
        ("vaccinations.csv", 9, "vaccine_missing"),
    ]
    assert_accounted(extract)


def test_empty_files_with_as_of_given(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    write_csv(folder / "children.csv", [], list(CHILD))
    write_csv(folder / "vaccinations.csv", [], list(DOSE))

    extract = read_registry(folder, AS_OF)

    assert extract.children.height == extract.vaccinations.height == extract.rejects.height == 0
    assert extract.children.schema == pl.Schema(CHILDREN_SCHEMA)
    assert vars(extract.accounts["vaccinations"]) == dict.fromkeys(
        ("rows_read", "rows_loaded", "rows_rejected", "duplicates"), 0
    )


def test_csv_line_counts_records_when_a_quoted_field_holds_a_newline(
    no_geo_pack: Path, tmp_path: Path
) -> None:
    """Documented behaviour: line = record index + 2, not the physical line."""
    children = [child(settlement_id="two\nlines"), child(health_id="C1", sex="X")]
    folder = make_registry(tmp_path / "reg", children, [dose()])

    extract = read_registry(folder, AS_OF)

    assert extract.children["settlement_id"].to_list() == ["two\nlines"]
    assert extract.rejects.select("line", "rule").rows() == [(3, "sex_invalid")]


# --- Parquet -----------------------------------------------------------------------------


def test_typed_parquet(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    pl.DataFrame(
        {
            "health_id": ["C0", "C1"],
            "birth_date": [datetime.date(2023, 1, 10), None],
            "adm1_code": ["IQG08", "IQG08"],
            "adm2_code": ["IQG08Q01", "IQG08Q01"],
            "Sex": ["female", None],
        }
    ).write_parquet(folder / "children.parquet")
    pl.DataFrame(
        {
            "health_id": ["C0", "C0"],
            "vaccine": ["bcg", "OPV0"],
            "dose_date": [datetime.datetime(2023, 1, 10), datetime.datetime(2024, 7, 1)],
        }
    ).write_parquet(folder / "vaccinations.parquet")

    extract = read_registry(folder, AS_OF)

    assert extract.children.select("health_id", "birth_date", "sex").rows() == [
        ("C0", datetime.date(2023, 1, 10), "F")
    ]
    assert extract.vaccinations.select("vaccine", "dose_date").rows() == [
        ("BCG", datetime.date(2023, 1, 10))
    ]
    rejects = extract.rejects.select("file", "line", "rule").rows()
    assert rejects == [
        ("children.parquet", 2, "birth_date_missing"),
        ("vaccinations.parquet", 2, "dose_after_as_of"),
    ]
    values = json.loads(extract.rejects["values"][0])
    assert values["birth_date"] is None and values["sex"] is None


# --- as_of, source and inputs ------------------------------------------------------------


def test_as_of_option_wins_over_manifest(no_geo_pack: Path, tmp_path: Path) -> None:
    manifest = {"as_of": "2023-12-31", "source": "MoH registry"}
    folder = make_registry(tmp_path / "reg", [child()], [dose()], manifest=manifest)

    extract = read_registry(folder, AS_OF)

    assert (extract.as_of, extract.as_of_origin) == (AS_OF, "option")
    assert extract.source == "MoH registry"


def test_as_of_from_manifest(no_geo_pack: Path, tmp_path: Path) -> None:
    manifest = {"as_of": "2023-01-15", "extracted_at": "2023-01-16T02:00:00Z"}
    doses = [dose(), dose(vaccine="OPV0", dose_date="2023-01-16")]
    children = [child(registration_date="2023-01-12")]
    folder = make_registry(tmp_path / "export-7", children, doses, manifest=manifest)

    extract = read_registry(folder)

    assert (extract.as_of, extract.as_of_origin) == (datetime.date(2023, 1, 15), "manifest")
    assert extract.source == "export-7"  # no source in the manifest: the folder name
    assert extract.rejects.select("line", "rule").rows() == [(3, "dose_after_as_of")]


def test_as_of_from_the_latest_date_in_the_files(no_geo_pack: Path, tmp_path: Path) -> None:
    children = [child(registration_date="2023-03-01"), child(health_id="C1", birth_date="bad")]
    doses = [dose(), dose(vaccine="OPV0", dose_date="2023-02-28"), dose(dose_date="2023-13-01")]
    folder = make_registry(tmp_path / "reg", children, doses)

    extract = read_registry(folder)

    assert (extract.as_of, extract.as_of_origin) == (datetime.date(2023, 3, 1), "data")
    assert extract.children["registration_date"].to_list() == [datetime.date(2023, 3, 1)]


def test_as_of_from_a_dose_date(no_geo_pack: Path, tmp_path: Path) -> None:
    doses = [dose(), dose(vaccine="MCV1", dose_date="2023-10-10")]
    folder = make_registry(tmp_path / "reg", [child()], doses)

    extract = read_registry(folder)

    assert (extract.as_of, extract.as_of_origin) == (datetime.date(2023, 10, 10), "data")
    assert extract.vaccinations.height == 2


def test_inputs_name_size_and_hash(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose()], manifest={"source": "x"})

    extract = read_registry(folder, AS_OF)

    names = ["children.csv", "manifest.json", "vaccinations.csv"]
    assert [entry["name"] for entry in extract.inputs] == names
    for entry in extract.inputs:
        data = (folder / entry["name"]).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()


# --- fatal errors ------------------------------------------------------------------------


def test_missing_folder(no_geo_pack: Path, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="registry folder not found"):
        read_registry(tmp_path / "nowhere", AS_OF)


@pytest.mark.parametrize("missing", ["children", "vaccinations"])
def test_missing_file(no_geo_pack: Path, tmp_path: Path, missing: str) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose()])
    (folder / f"{missing}.csv").unlink()

    expected = rf"{missing}\.csv \(or {missing}\.parquet\) is missing"
    with pytest.raises(RegistryError, match=expected):
        read_registry(folder, AS_OF)


def test_csv_and_parquet_of_one_table(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose()])
    write_parquet(folder / "vaccinations.parquet", [dose()])

    with pytest.raises(RegistryError, match="vaccinations.csv and vaccinations.parquet both"):
        read_registry(folder, AS_OF)


@pytest.mark.parametrize(
    ("file", "column"),
    [("children", "birth_date"), ("children", "adm2_code"), ("vaccinations", "vaccine")],
)
def test_missing_required_column(no_geo_pack: Path, tmp_path: Path, file: str, column: str) -> None:
    children = [{k: v for k, v in child().items() if (file, k) != ("children", column)}]
    doses = [{k: v for k, v in dose().items() if (file, k) != ("vaccinations", column)}]
    folder = make_registry(tmp_path / "reg", children, doses)

    with pytest.raises(RegistryError) as caught:
        read_registry(folder, AS_OF)

    assert str(caught.value) == f"{file}.csv: required column '{column}' is missing"


def test_missing_required_column_in_parquet(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [{"health_id": "C0", "vaccine": "BCG"}])
    (folder / "vaccinations.csv").unlink()
    write_parquet(folder / "vaccinations.parquet", [{"health_id": "C0", "vaccine": "BCG"}])

    with pytest.raises(RegistryError, match="vaccinations.parquet: required column 'dose_date'"):
        read_registry(folder, AS_OF)


def test_invalid_utf8(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose()])
    with (folder / "children.csv").open("ab") as handle:
        handle.write(b"C\xff\xfe1,2023-01-10,,,,IQG08,IQG08Q01,,,\n")

    with pytest.raises(RegistryError, match="children.csv: not valid UTF-8"):
        read_registry(folder, AS_OF)


def test_unreadable_parquet(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose()])
    (folder / "vaccinations.csv").unlink()
    (folder / "vaccinations.parquet").write_bytes(b"not a parquet file")

    with pytest.raises(RegistryError, match="vaccinations.parquet: cannot be read"):
        read_registry(folder, AS_OF)


def test_column_given_twice(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose()])
    (folder / "vaccinations.csv").write_text(
        "health_id,vaccine,dose_date, Dose_Date\nC0,BCG,2023-01-10,2023-01-10\n", encoding="utf-8"
    )

    with pytest.raises(RegistryError, match="vaccinations.csv: column 'dose_date' appears more"):
        read_registry(folder, AS_OF)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"as_of": "2024-06-30",', "manifest.json: not a readable JSON file"),
        ('["2024-06-30"]', "manifest.json: must hold a JSON object"),
        ('{"as_of": "30/06/2024"}', "manifest.json: 'as_of' must be a date YYYY-MM-DD"),
        ('{"as_of": "2024-02-30"}', "manifest.json: 'as_of' must be a date YYYY-MM-DD"),
        ('{"as_of": 20240630}', "manifest.json: 'as_of' must be a string"),
        ('{"extracted_at": "yesterday"}', "manifest.json: 'extracted_at' must be an ISO"),
    ],
)
def test_broken_manifest(no_geo_pack: Path, tmp_path: Path, content: str, message: str) -> None:
    folder = make_registry(tmp_path / "reg", [child()], [dose()])
    (folder / "manifest.json").write_text(content, encoding="utf-8")

    with pytest.raises(RegistryError, match=message):
        read_registry(folder, AS_OF)  # fatal even though the option makes as_of moot


def test_no_date_to_take_as_of_from(no_geo_pack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    write_csv(folder / "children.csv", [child(birth_date="x", registration_date="")])
    write_csv(folder / "vaccinations.csv", [], list(DOSE))

    with pytest.raises(RegistryError, match="no valid date in the files"):
        read_registry(folder)


# --- with the boundary pack --------------------------------------------------------------


def test_districts_from_the_boundary_pack(geo_pack: Path, tmp_path: Path) -> None:
    children = [
        child(adm2_code="IQG08Q07"),
        child(health_id="C1", adm2_code="IQG08Q99"),  # right form, but not a district
        child(health_id="C2", adm1_code="IQG08", adm2_code="IQG01Q01"),
    ]
    folder = make_registry(tmp_path / "reg", children, [dose()])

    extract = read_registry(folder, AS_OF)

    assert extract.children["adm2_code"].to_list() == ["IQG08Q07"]
    assert extract.rejects.select("line", "rule").rows() == [
        (3, "adm2_code_unknown"),
        (4, "adm2_not_in_adm1"),
    ]


def test_without_the_pack_any_well_formed_district_is_accepted(
    no_geo_pack: Path, tmp_path: Path
) -> None:
    folder = make_registry(tmp_path / "reg", [child(adm2_code="IQG08Q99")], [dose()])

    extract = read_registry(folder, AS_OF)

    assert extract.children["adm2_code"].to_list() == ["IQG08Q99"]
