"""The synthetic registry generator: reproducible, on contract, honest about its bad rows, and
calibrated to Iraq. Everything is checked on the written files with plain polars, independently
of the generator's internals and of the ETL (the lead's end-to-end test covers the ETL)."""

from __future__ import annotations

import csv
import json
import re
import tomllib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from etl import generate as gen

AS_OF = date(2026, 6, 30)
SCHEDULE = tomllib.loads(
    (Path(gen.__file__).with_name("schedule.toml")).read_text(encoding="utf-8")
)["due_months"]
GOVERNORATES = {row[0] for row in gen.geography.GOVERNORATES}
CHILD_COLUMNS = [
    "health_id", "birth_date", "registration_date", "sex", "disability", "adm1_code",
    "adm2_code", "settlement_id", "facility_id", "death_date",
]  # fmt: skip
DOSE_COLUMNS = ["health_id", "vaccine", "dose_date", "facility_id"]
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def run(folder: Path, **kwargs) -> dict:
    return gen.generate(folder, **{"children": 4_000, **kwargs})


def read(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both tables with every value as text, whichever format was written."""
    if (folder / "children.csv").is_file():
        load = lambda name: pl.read_csv(folder / f"{name}.csv", infer_schema=False)  # noqa: E731
    else:
        load = lambda name: pl.read_parquet(folder / f"{name}.parquet").cast(pl.String)  # noqa: E731
    return load("children"), load("vaccinations")


def known_districts(pack: Path | None) -> dict[str, str]:
    """District → governorate: the pack's list, or the generator's documented fallback codes."""
    if pack is None:
        return {f"{g}Q{q:02d}": g for g in GOVERNORATES for q in (1, 2, 3)}
    with (pack / "iraq_adm2.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {row["code"]: row["adm1_code"] for row in csv.DictReader(handle)}


def loadable(kids: pl.DataFrame, districts: dict[str, str], as_of: date = AS_OF) -> pl.DataFrame:
    """The children rows the contract loads: first row per ID, valid date, sex and district."""
    kids = kids.with_columns(
        birth=pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False),
        parent=pl.col("adm2_code").replace_strict(districts, default=None),
    ).unique("health_id", keep="first", maintain_order=True)
    return kids.filter(
        pl.col("birth").is_not_null(),
        pl.col("birth") <= as_of,
        pl.col("sex").is_null() | pl.col("sex").is_in(["F", "M", "U"]),
        pl.col("parent") == pl.col("adm1_code"),
    )


def audit(folder: Path, districts: dict[str, str], as_of: date = AS_OF) -> dict[str, int]:
    """Count each kind of bad row by the contract's rules (spec/registry-export.md)."""
    kids, doses = read(folder)
    valid = loadable(kids, districts, as_of)
    first = kids.unique("health_id", keep="first", maintain_order=True).with_columns(
        birth=pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False),
        parent=pl.col("adm2_code").replace_strict(districts, default=None),
    )
    doses = doses.with_columns(when=pl.col("dose_date").str.to_date("%Y-%m-%d"))
    on_valid = doses.join(valid.select("health_id", "birth"), on="health_id")
    coded = on_valid.filter(pl.col("vaccine").is_in(list(SCHEDULE)))
    in_range = coded.filter(pl.col("when") >= pl.col("birth"), pl.col("when") <= as_of)
    return {
        "duplicate_health_id": kids.height - first.height,
        "unknown_district": first.filter(pl.col("parent").is_null()).height,
        "district_outside_governorate": first.filter(
            pl.col("parent") != pl.col("adm1_code")
        ).height,
        "impossible_birth_date": first.filter(pl.col("birth").is_null()).height,
        "birth_after_as_of": first.filter(pl.col("birth") > as_of).height,
        "invalid_sex": first.filter(~pl.col("sex").is_in(["F", "M", "U"])).height,
        "unknown_vaccine": on_valid.height - coded.height,
        "dose_before_birth": coded.filter(pl.col("when") < pl.col("birth")).height,
        "dose_after_as_of": coded.filter(pl.col("when") > as_of).height,
        "unknown_child": doses.join(kids, on="health_id", how="anti").height,
        "duplicate_dose": in_range.height - in_range.unique(["health_id", "vaccine"]).height,
        "vaccinations_of_rejected_children": doses.join(first, on="health_id", how="semi").height
        - on_valid.height,
    }


def cohort(folder: Path, districts: dict[str, str]) -> pl.DataFrame:
    """Loadable children eligible at 12 months, with flags per dose: by 12 months, ever."""
    kids, doses = read(folder)
    kids = loadable(kids, districts).with_columns(
        death=pl.col("death_date").str.to_date("%Y-%m-%d"),
        at12=pl.col("birth").dt.offset_by("12mo"),
    )
    eligible = kids.filter(
        pl.col("at12") <= AS_OF, pl.col("death").is_null() | (pl.col("death") >= pl.col("at12"))
    )
    given = (
        doses.with_columns(when=pl.col("dose_date").str.to_date("%Y-%m-%d"))
        .join(eligible.select("health_id", "birth", "at12"), on="health_id")
        .filter(pl.col("when") >= pl.col("birth"))
        .group_by("health_id", "vaccine")
        .agg(by12=(pl.col("when") < pl.col("at12")).any(), ever=(pl.col("when") <= AS_OF).any())
    )
    flags = given.pivot(on="vaccine", index="health_id", values=["by12", "ever"])
    return eligible.join(flags, on="health_id", how="left").fill_null(False)


def pct(frame: pl.DataFrame, column: str) -> float:
    return 100 * frame[column].cast(pl.Float64).mean()


# --- reproducibility and format ------------------------------------------------------------


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path, no_geo_pack):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        run(tmp_path / name, seed=seed)
    for file in ("children.csv", "vaccinations.csv", "manifest.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert (tmp_path / "a/children.csv").read_bytes() != (tmp_path / "c/children.csv").read_bytes()


def test_parquet_is_reproducible_and_holds_the_same_rows_as_csv(tmp_path, no_geo_pack):
    for name in ("p1", "p2"):
        run(tmp_path / name, fmt="parquet")
    run(tmp_path / "c", fmt="csv")
    for table in ("children", "vaccinations"):
        first = (tmp_path / "p1" / f"{table}.parquet").read_bytes()
        assert first == (tmp_path / "p2" / f"{table}.parquet").read_bytes()
    for parquet, text in zip(read(tmp_path / "p1"), read(tmp_path / "c"), strict=True):
        assert parquet.equals(text)
    schema = pl.read_parquet_schema(tmp_path / "p1" / "vaccinations.parquet")
    assert schema["dose_date"] == pl.Date
    assert pl.read_parquet_schema(tmp_path / "p1" / "children.parquet")["birth_date"] == pl.String


def test_auto_format_switches_to_parquet_at_the_limit(tmp_path, no_geo_pack, monkeypatch):
    assert run(tmp_path / "small")["format"] == "csv"
    monkeypatch.setattr(gen, "CSV_LIMIT", 4_000)
    summary = run(tmp_path / "small")  # same folder: the CSV files of the first run go
    assert summary["format"] == "parquet"
    assert sorted(p.name for p in (tmp_path / "small").iterdir()) == [
        "children.parquet", "manifest.json", "vaccinations.parquet",
    ]  # fmt: skip


def test_chunks_join_into_one_file_with_one_header(tmp_path, no_geo_pack, monkeypatch):
    monkeypatch.setattr(gen, "CHUNK", 900)
    calls: list[tuple[int, int]] = []
    summary = run(tmp_path / "out", children=2_500, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(900, 2_500), (1_800, 2_500), (2_500, 2_500)]
    text = (tmp_path / "out" / "children.csv").read_text(encoding="utf-8")
    assert text.count("health_id,") == 1
    kids, _ = read(tmp_path / "out")
    dup = summary["bad_rows"]["children"]["duplicate_health_id"]
    assert kids["health_id"].n_unique() == 2_500 and kids.height == 2_500 + dup


# --- the contract ------------------------------------------------------------------------


def test_files_follow_the_registry_contract(tmp_path, no_geo_pack):
    as_of = date(2025, 3, 31)
    summary = run(tmp_path / "out", as_of=as_of)
    kids, doses = read(tmp_path / "out")
    assert kids.columns == CHILD_COLUMNS and doses.columns == DOSE_COLUMNS
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == {
        "as_of": "2025-03-31",
        "source": "Mizan synthetic registry (seed 1)",
        "extracted_at": "2025-04-01T02:00:00+03:00",
    }
    assert kids["birth_date"].str.contains(ISO_DATE).all()
    for frame, column in (
        (kids, "registration_date"), (kids, "death_date"), (doses, "dose_date")
    ):  # fmt: skip
        assert frame[column].drop_nulls().str.contains(ISO_DATE).all()
        assert frame[column].str.to_date("%Y-%m-%d").null_count() == frame[column].null_count()
    assert kids["health_id"].str.contains(r"^IQ\d{10}$").all()
    uid = r"^[A-Za-z][A-Za-z0-9]{10}$"
    assert kids["facility_id"].drop_nulls().str.contains(uid).all()
    assert doses["facility_id"].drop_nulls().str.contains(uid).all()
    assert kids["disability"].drop_nulls().is_in(["yes", "no"]).all()
    assert (kids["settlement_id"].str.slice(0, 8) == kids["adm2_code"]).mean() > 0.99
    births = kids["birth_date"].str.to_date("%Y-%m-%d", strict=False).drop_nulls()
    assert births.filter(births <= as_of).min() > date(2020, 3, 31)
    assert summary["as_of"] == "2025-03-31"
    assert summary["rows"] == {"children": kids.height, "vaccinations": doses.height}


def test_generator_schedule_is_the_projects_schedule():
    assert list(gen.DUE_DAYS) == list(SCHEDULE)
    for code, months in SCHEDULE.items():
        assert abs(gen.DUE_DAYS[code] - months * 30.44) < 2, code
    assert not set(gen.BAD_VACCINES) & set(SCHEDULE)


def test_summary_counts_equal_what_is_in_the_files(tmp_path, no_geo_pack):
    summary = run(tmp_path / "out", children=20_000)
    counted = audit(tmp_path / "out", known_districts(None))
    expected = {**summary["bad_rows"]["children"], **summary["bad_rows"]["vaccinations"]}
    expected["vaccinations_of_rejected_children"] = summary["vaccinations_of_rejected_children"]
    assert counted == expected
    assert all(count > 0 for count in expected.values())
    rows = sum(summary["rows"].values())
    assert 0.002 <= summary["bad_rows_total"] / rows <= 0.005


def test_doses_respect_death_and_registration_is_plausible(tmp_path, no_geo_pack):
    run(tmp_path / "out", children=10_000)
    kids, doses = read(tmp_path / "out")
    kids = kids.unique("health_id", keep="first").with_columns(
        birth=pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False),
        reg=pl.col("registration_date").str.to_date("%Y-%m-%d"),
        death=pl.col("death_date").str.to_date("%Y-%m-%d"),
    )
    dead = kids.filter(pl.col("death").is_not_null())
    assert 0.005 < dead.height / kids.height < 0.03
    after_death = doses.join(dead, on="health_id").filter(
        pl.col("dose_date").str.to_date("%Y-%m-%d") >= pl.col("death")
    )
    assert after_death.height <= 5  # only a deliberately bad row could land there
    registered = kids.filter(pl.col("reg").is_not_null(), pl.col("birth") <= AS_OF)
    assert 0.01 < 1 - registered.height / kids.height < 0.1
    assert (registered["reg"] >= registered["birth"]).all() and (registered["reg"] <= AS_OF).all()
    within_30 = ((registered["reg"] - registered["birth"]).dt.total_days() <= 30).mean()
    assert 0.8 < within_30 < 0.95


# --- calibration -------------------------------------------------------------------------


def check_calibration(folder: Path, districts: dict[str, str]) -> pl.DataFrame:
    """National levels and equity gaps of spec/indicators.md's 12-month cohort coverage."""
    kids = cohort(folder, districts)
    assert 85 <= pct(kids, "by12_PENTA1") <= 95
    assert 76 <= pct(kids, "by12_PENTA3") <= 87
    assert 76 <= pct(kids, "by12_MCV1") <= 88
    assert pct(kids, "by12_BCG") > 92
    assert pct(kids, "by12_PCV3") < pct(kids, "by12_PENTA3") - 10
    for code in ("PENTA3", "MCV1"):
        assert pct(kids, f"by12_{code}") < pct(kids, f"ever_{code}")  # late doses exist
    dropout = 1 - kids["by12_PENTA3"].sum() / kids["by12_PENTA1"].sum()
    assert 0.04 < dropout < 0.15
    disabled, not_disabled = (
        pct(kids.filter(pl.col("disability") == v), "by12_PENTA3") for v in ("yes", "no")
    )
    assert 5 < not_disabled - disabled < 18
    girls, boys = (pct(kids.filter(pl.col("sex") == s), "by12_PENTA3") for s in "FM")
    assert abs(girls - boys) < 3
    kri = pct(kids.filter(pl.col("adm1_code").is_in(["IQG06", "IQG09", "IQG11"])), "by12_PENTA3")
    post_conflict = pct(kids.filter(pl.col("adm1_code").is_in(["IQG15", "IQG01"])), "by12_PENTA3")
    assert kri > post_conflict + 8
    return kids


def test_calibration_without_the_boundary_pack(tmp_path, no_geo_pack):
    run(tmp_path / "out", children=20_000)
    kids = check_calibration(tmp_path / "out", known_districts(None))
    assert set(kids["adm2_code"]) == set(known_districts(None))
    shares = kids["adm1_code"].value_counts(normalize=True)["proportion"]
    assert shares.min() > 0.03 and shares.max() < 0.08  # equal-ish without population data


def test_calibration_with_the_boundary_pack(tmp_path, geo_pack):
    run(tmp_path / "out", children=20_000)
    districts = known_districts(geo_pack)
    kids = check_calibration(tmp_path / "out", districts)
    kids_all, _ = read(tmp_path / "out")
    assert len(set(kids["adm2_code"])) > 95
    assert set(kids["adm2_code"]) <= set(districts)
    shares = dict(kids_all["adm1_code"].value_counts(normalize=True).iter_rows())
    assert 0.18 < shares["IQG08"] < 0.25  # Baghdad: 21 % of the population
    assert shares["IQG03"] < 0.04  # Muthanna: 2 %
    by_district = (
        kids.group_by("adm2_code").agg(n=pl.len(), p3=pl.col("by12_PENTA3").mean() * 100)
    ).filter(pl.col("n") >= 100)
    assert by_district["p3"].max() - by_district["p3"].min() > 15  # districts really differ
    audit_counts = audit(tmp_path / "out", districts)
    assert audit_counts["unknown_district"] > 0 and audit_counts["district_outside_governorate"] > 0


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="format"):
        gen.generate(tmp_path, children=10, fmt="xlsx")
    with pytest.raises(ValueError, match="positive"):
        gen.generate(tmp_path, children=0)


def test_health_ids_are_a_bijection():
    numbers = pl.Series(range(200_000)).to_numpy()
    ids = gen.health_ids(numbers, seed=3)
    assert ids.n_unique() == len(numbers)
    assert all(re.fullmatch(r"IQ\d{10}", value) for value in ids.head(100))
