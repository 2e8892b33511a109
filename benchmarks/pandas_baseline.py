"""A straightforward pandas implementation of the registry indicators, for the benchmark ratio.

    .venv/bin/python -m benchmarks.pandas_baseline FOLDER [--as-of YYYY-MM-DD]

prints one JSON line: {"rows", "input", "as_of", "seconds": {"read", "validate", "link",
"cube"}, "total", "peak_rss_mb"}.

It is a second, independent implementation of `etl.registry` (the validation rules) and
`indicators.cohort.cohort_cube` (the indicator cube), written the way a data analyst would
write it with pandas: files read with the pyarrow engine, every rule a vectorised boolean
Series (the first broken one wins, `np.select`), the doses linked to their child with a merge
on health_id, and the cube built with groupbys and concats (loops only over indicators,
needs and levels, never over rows). It shares only configuration with them: the schedule's
dose codes, the catalogue and the geography's district list.

Stages: read (the two files as text, or Parquet as typed), validate (trim, parse dates, the
children rules and the dose rules that need no child), link (the merge on health_id, the
rules that need the child, duplicate doses), cube.
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from etl.schedule import dose_codes
from indicators import catalogue, geography

CHILDREN, VACCINATIONS = "children", "vaccinations"
CHILD_COLUMNS = {
    "health_id": "text",
    "birth_date": "date",
    "registration_date": "date",
    "death_date": "date",
    "sex": "text",
    "disability": "text",
    "adm1_code": "text",
    "adm2_code": "text",
}
DOSE_COLUMNS = {"health_id": "text", "vaccine": "upper", "dose_date": "date"}
REQUIRED = {
    CHILDREN: ("health_id", "birth_date", "adm1_code", "adm2_code"),
    VACCINATIONS: ("health_id", "vaccine", "dose_date"),
}
CHILD_RULES = (
    "field_count", "health_id_missing", "health_id_duplicate", "birth_date_missing",
    "birth_date_invalid", "birth_date_before_1990", "birth_date_after_as_of",
    "registration_date_invalid", "registration_before_birth", "registration_after_as_of",
    "death_date_invalid", "death_before_birth", "sex_invalid", "disability_invalid",
    "adm1_code_missing", "adm1_code_unknown", "adm2_code_missing", "adm2_code_unknown",
    "adm2_not_in_adm1",
)  # fmt: skip
DOSE_RULES = (
    "field_count", "health_id_missing", "vaccine_missing", "vaccine_unknown",
    "dose_date_missing", "dose_date_invalid", "child_rejected", "unknown_child",
    "dose_before_birth", "dose_after_as_of",
)  # fmt: skip
SEX = {"f": "F", "female": "F", "m": "M", "male": "M", "u": "U"}
DISABILITY = {"yes": "yes", "no": "no", "unknown": "unknown"}
MIN_BIRTH = pd.Timestamp("1990-01-01")
ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TIMELY_DAYS = 30
ALL = "all"
EXTRA = "\0extra"  # the column that catches the fields beyond the header (CSV fallback)
GRAIN = ["gov", "district", "sex", "disability"]
CUBE_COLUMNS = ["indicator", "period", "org_unit", "org_unit_level", "adm1_code", "sex",
                "disability", "numerator", "denominator"]  # fmt: skip
CUBE_ORDER = ["indicator", "period", "org_unit_level", "org_unit", "sex", "disability"]


@dataclass
class Registry:
    """Every input row with its first broken rule (`rule`, NaN when loaded). The doses also
    carry `child` (the row of the child among the loaded children), `child_birth` and
    `duplicate`."""

    children: pd.DataFrame
    doses: pd.DataFrame

    @property
    def loaded_children(self) -> pd.DataFrame:
        return self.children[self.children["rule"].isna()].reset_index(drop=True)

    @property
    def loaded_doses(self) -> pd.DataFrame:
        return self.doses[self.doses["rule"].isna() & ~self.doses["duplicate"]]


def pandas_cube(folder: Path, as_of: datetime.date) -> pd.DataFrame:
    """The indicator cube of a registry export folder, computed with pandas only."""
    return indicator_cube(checked_registry(folder, as_of), as_of)


def checked_registry(folder: Path, as_of: datetime.date) -> Registry:
    """Every row of the folder's two files with the first rule it breaks (read, validate,
    link)."""
    children, doses = read_tables(Path(folder))
    children, doses = normalise(children, CHILD_COLUMNS), normalise(doses, DOSE_COLUMNS)
    return link(check_children(children, as_of), check_doses(doses), as_of)


# --- read ------------------------------------------------------------------------------------


def read_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The children and vaccinations files, with normalised column names, `line`, `ragged`."""
    return _read(folder, CHILDREN), _read(folder, VACCINATIONS)


def _read(folder: Path, table: str) -> pd.DataFrame:
    found = [folder / f"{table}{ext}" for ext in (".csv", ".parquet")]
    found = [path for path in found if path.is_file()]
    if len(found) != 1:
        raise ValueError(f"{folder}: expected exactly one of {table}.csv, {table}.parquet")
    path = found[0]
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path, engine="pyarrow", dtype_backend="pyarrow")
        frame, first_line = frame.assign(ragged=False), 1
    else:
        frame, first_line = _read_csv(path), 2
    frame.columns = _names(list(frame.columns), path.name)
    for column in REQUIRED[table]:
        if column not in frame.columns:
            raise ValueError(f"{path.name}: required column '{column}' is missing")
    frame["line"] = np.arange(first_line, first_line + len(frame), dtype=np.int64)
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text. A file with rows longer or shorter than the header makes the
    pyarrow engine fail; it is read again with the python engine, whose extra column
    catches the fields beyond the header (the row is then `ragged`)."""
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    try:
        return pd.read_csv(path, engine="pyarrow", **options).assign(ragged=False)
    except pd.errors.ParserError:
        pass
    header = pd.read_csv(path, engine="python", nrows=0, **options).columns.tolist()
    frame = pd.read_csv(
        path, engine="python", header=None, skiprows=1, names=[*header, EXTRA],
        on_bad_lines=lambda fields: fields[: len(header) + 1], **options,
    )  # fmt: skip
    return frame.assign(ragged=frame.pop(EXTRA).notna())


def _names(names: list[str], file: str) -> list[str]:
    normalised = [str(name).lstrip("\ufeff").strip().lower() for name in names]
    if len(set(normalised)) != len(normalised):
        raise ValueError(f"{file}: a column appears more than once")
    return normalised


# --- validate --------------------------------------------------------------------------------


def normalise(raw: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Trimmed text (NaN when empty), parsed dates (NaT when invalid) with `<date>_given`."""
    out = pd.DataFrame({"line": raw["line"], "ragged": raw["ragged"]})
    for column, kind in columns.items():
        given = raw[column] if column in raw.columns else pd.Series(np.nan, index=raw.index)
        if kind == "date":
            out[column], out[f"{column}_given"] = _date(given)
        else:
            text = _text(given)
            out[column] = text.str.upper() if kind == "upper" else text
    return out


def _text(values: pd.Series) -> pd.Series:
    text = values.astype("str").str.strip()
    return text.where(text != "")


def _date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A typed Parquet date or timestamp is used as it is (by its date); text must be
    YYYY-MM-DD and a real date."""
    arrow = values.dtype.pyarrow_dtype if isinstance(values.dtype, pd.ArrowDtype) else None
    if arrow is not None and pa.types.is_date(arrow):
        return values.astype("datetime64[s]"), values.notna()
    if arrow is not None and pa.types.is_timestamp(arrow):
        local = values.dt.tz_localize(None) if arrow.tz else values
        return local.astype("datetime64[us]").dt.floor("D").astype("datetime64[s]"), values.notna()
    text = _text(values)
    iso = text.where(text.str.fullmatch(ISO_DATE))
    parsed = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
    return parsed, text.notna()


def _first_broken(checks: dict[str, pd.Series], rules: tuple[str, ...]) -> pd.Categorical:
    """The first rule (of `checks`, in order) each row breaks; NaN for a valid row."""
    conditions = [np.asarray(condition, dtype=bool) for condition in checks.values()]
    codes = np.select(conditions, [rules.index(rule) for rule in checks], default=-1)
    return pd.Categorical.from_codes(codes, categories=rules)


def district_parent(adm2: pd.Series) -> pd.Series:
    """Each district code's governorate (NaN when not a known district): the boundary pack's
    list, or without it the p-code form `<adm1>Qnn` of a known governorate."""
    known = geography.districts()
    if known:
        return adm2.map(known)
    parent = adm2.str.extract(geography.DISTRICT_CODE.pattern, expand=False)
    return parent.where(parent.isin(sorted(geography.governorate_codes())))


def check_children(kids: pd.DataFrame, as_of: datetime.date) -> pd.DataFrame:
    """Add `rule`: the first of CHILD_RULES each child row breaks."""
    end = pd.Timestamp(as_of)
    hid, birth = kids["health_id"], kids["birth_date"]
    registration, death = kids["registration_date"], kids["death_date"]
    adm1, adm2 = kids["adm1_code"], kids["adm2_code"]
    parent = district_parent(adm2)
    checks = {
        "field_count": kids["ragged"],
        "health_id_missing": hid.isna(),
        "health_id_duplicate": hid.notna() & hid.duplicated(),
        "birth_date_missing": ~kids["birth_date_given"],
        "birth_date_invalid": birth.isna(),
        "birth_date_before_1990": birth < MIN_BIRTH,
        "birth_date_after_as_of": birth > end,
        "registration_date_invalid": kids["registration_date_given"] & registration.isna(),
        "registration_before_birth": registration < birth,
        "registration_after_as_of": registration > end,
        "death_date_invalid": kids["death_date_given"] & death.isna(),
        "death_before_birth": death < birth,
        "sex_invalid": _not_one_of(kids["sex"], SEX),
        "disability_invalid": _not_one_of(kids["disability"], DISABILITY),
        "adm1_code_missing": adm1.isna(),
        "adm1_code_unknown": ~adm1.isin(sorted(geography.governorate_codes())),
        "adm2_code_missing": adm2.isna(),
        "adm2_code_unknown": parent.isna(),
        "adm2_not_in_adm1": parent.notna() & adm1.notna() & (parent != adm1),
    }
    return kids.assign(rule=_first_broken(checks, CHILD_RULES))


def _not_one_of(values: pd.Series, accepted: dict[str, str]) -> pd.Series:
    return values.notna() & ~values.str.lower().isin(list(accepted))


def check_doses(doses: pd.DataFrame) -> pd.DataFrame:
    """Add `rule`: the first dose rule broken among those that need no child (all but the
    last four; `link` checks the rest)."""
    checks = {
        "field_count": doses["ragged"],
        "health_id_missing": doses["health_id"].isna(),
        "vaccine_missing": doses["vaccine"].isna(),
        "vaccine_unknown": ~doses["vaccine"].isin(sorted(dose_codes())),
        "dose_date_missing": ~doses["dose_date_given"],
        "dose_date_invalid": doses["dose_date"].isna(),
    }
    return doses.assign(rule=_first_broken(checks, DOSE_RULES))


# --- link ------------------------------------------------------------------------------------


def link(kids: pd.DataFrame, doses: pd.DataFrame, as_of: datetime.date) -> Registry:
    """Merge the doses with the children on health_id, check the rules that need the child
    (and the as-of date), and mark duplicate doses: same health_id and vaccine among valid
    rows, the earliest dose_date (then the lowest line) kept."""
    linked = doses.merge(_lookup(kids), on="health_id", how="left")
    dose = linked["dose_date"]
    checks = {
        "child_rejected": linked["child"] == -1,
        "unknown_child": linked["child"].isna(),
        "dose_before_birth": dose < linked["child_birth"],
        "dose_after_as_of": dose > pd.Timestamp(as_of),
    }
    earlier = linked["rule"].cat.codes.to_numpy()
    later = _first_broken(checks, DOSE_RULES).codes
    codes = np.where(earlier >= 0, earlier, later)
    linked["rule"] = pd.Categorical.from_codes(codes, categories=DOSE_RULES)
    linked["duplicate"] = _duplicates(linked)
    return Registry(kids, linked)


def _lookup(kids: pd.DataFrame) -> pd.DataFrame:
    """health_id → `child` (row among the loaded children; -1 when the id is only on rejected
    rows) and `child_birth`. An id's loaded row, if any, is its first row."""
    valid = kids["rule"].isna()
    child = np.full(len(kids), -1, dtype=np.int64)
    child[valid.to_numpy()] = np.arange(valid.sum())
    ids = kids[["health_id", "birth_date"]].assign(child=child)
    ids = ids[ids["health_id"].notna()].drop_duplicates("health_id")
    return ids.rename(columns={"birth_date": "child_birth"})


def _duplicates(doses: pd.DataFrame) -> pd.Series:
    valid = doses.loc[doses["rule"].isna(), ["child", "vaccine", "dose_date", "line"]]
    ordered = valid.sort_values(["dose_date", "line"])
    repeated = ordered.index[ordered.duplicated(["child", "vaccine"])]
    return pd.Series(doses.index.isin(repeated), index=doses.index)


# --- cube ------------------------------------------------------------------------------------


def indicator_cube(registry: Registry, as_of: datetime.date) -> pd.DataFrame:
    """Every registry indicator by cohort (quarter and year), org unit, sex and disability,
    with `all` totals; only cells with a non-zero denominator."""
    indicators = [i for i in catalogue.indicators() if i.source == "registry"]
    kids = _with_flags(registry.loaded_children, registry.loaded_doses, indicators)
    for indicator in indicators:
        numerator, denominator = _terms(kids, indicator, as_of)
        kids[f"n_{indicator.code}"] = numerator.astype(np.int8)
        kids[f"d_{indicator.code}"] = denominator.astype(np.int8)
    wide = _periods(_finest(kids))
    for column in ("sex", "disability"):
        wide = _with_total(wide, column)
    cube = _long(_levels(wide), [i.code for i in indicators])
    return cube.sort_values(CUBE_ORDER, ignore_index=True)


def _anniversary(birth: pd.Series, months: int) -> pd.Series:
    """birth + months calendar months, clamped to month end (29 Feb + 12 months = 28 Feb)."""
    return birth + pd.DateOffset(months=months)


def _with_flags(kids: pd.DataFrame, doses: pd.DataFrame, indicators: list) -> pd.DataFrame:
    """One column per (vaccine, age) some indicator needs: a dose given before that age."""
    needs = sorted({(dose, i.age_months) for i in indicators for dose in i.doses})
    due = {age: _anniversary(doses["child_birth"], age) for age in {age for _, age in needs}}
    kids = kids.copy()
    for vaccine, age in needs:
        given = doses.loc[(doses["vaccine"] == vaccine) & (doses["dose_date"] < due[age]), "child"]
        kids[f"has_{vaccine}_{age}"] = kids.index.isin(given.astype(np.int64))
    return kids


def _terms(kids: pd.DataFrame, indicator: Any, as_of: datetime.date) -> tuple[pd.Series, ...]:
    """Per-child numerator and denominator of one indicator."""
    if indicator.kind == "timely_registration":
        registered = kids["registration_date"].notna()
        delay = (kids["registration_date"] - kids["birth_date"]).dt.days
        return registered & (delay <= TIMELY_DAYS), registered
    age = indicator.age_months
    at = _anniversary(kids["birth_date"], age)
    alive = kids["death_date"].isna() | (kids["death_date"] >= at)
    eligible = (at <= pd.Timestamp(as_of)) & alive
    has = kids[[f"has_{dose}_{age}" for dose in indicator.doses]]
    if indicator.kind == "coverage":
        return eligible & has.all(axis=1), eligible
    if indicator.kind == "zero_dose":
        return eligible & ~has.any(axis=1), eligible
    if indicator.kind == "dropout":
        first, last = eligible & has.iloc[:, 0], eligible & has.iloc[:, -1]
        return first.astype(np.int8) - last.astype(np.int8), first
    raise ValueError(f"indicator {indicator.code}: unknown kind {indicator.kind!r}")


def _measures(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(("n_", "d_"))]


def _finest(kids: pd.DataFrame) -> pd.DataFrame:
    """Sums per governorate x district x sex x disability x birth year and quarter."""
    kids = kids.assign(
        sex=kids["sex"].str.lower().map(SEX).fillna("U"),
        disability=kids["disability"].str.lower().map(DISABILITY).fillna("unknown"),
        year=kids["birth_date"].dt.year,
        quarter=kids["birth_date"].dt.quarter,
    )
    keys = ["adm1_code", "adm2_code", "sex", "disability", "year", "quarter"]
    counts = kids.groupby(keys, dropna=False)[_measures(kids)].sum().reset_index()
    parent = district_parent(counts["adm2_code"])
    gov = parent.fillna(counts["adm1_code"])
    counts["gov"] = gov.where(gov.isin(sorted(geography.governorate_codes())))
    counts["district"] = counts["adm2_code"].where(parent.notna())
    return _sum(counts, [*GRAIN, "year", "quarter"])


def _sum(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.groupby(keys, dropna=False)[_measures(frame)].sum().reset_index()


def _periods(finest: pd.DataFrame) -> pd.DataFrame:
    """Quarter cohorts ("2023Q1") and year cohorts ("2023")."""
    quarters = finest.assign(
        period=finest["year"].astype(str) + "Q" + finest["quarter"].astype(str)
    )
    years = _sum(finest, [*GRAIN, "year"])
    years = years.assign(period=years["year"].astype(str))
    return pd.concat([quarters, years], ignore_index=True).drop(columns=["year", "quarter"])


def _with_total(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Append the `all` rows of one dimension."""
    keys = [k for k in [*GRAIN, "period"] if k != column]
    total = _sum(frame, keys).assign(**{column: ALL})
    return pd.concat([frame, total], ignore_index=True)


def _levels(frame: pd.DataFrame) -> pd.DataFrame:
    """District (level 2), governorate (level 1) and Iraq (level 0) rows."""
    rest = ["period", "sex", "disability"]
    districts = frame[frame["district"].notna()].assign(
        org_unit=lambda f: f["district"], org_unit_level=2, adm1_code=lambda f: f["gov"]
    )
    governorates = _sum(frame[frame["gov"].notna()], ["gov", *rest]).assign(
        org_unit=lambda f: f["gov"], org_unit_level=1, adm1_code=lambda f: f["gov"]
    )
    national = _sum(frame, rest).assign(
        org_unit=geography.NATIONAL, org_unit_level=0, adm1_code=None
    )
    keep = ["org_unit", "org_unit_level", "adm1_code", *rest, *_measures(frame)]
    return pd.concat([part[keep] for part in (districts, governorates, national)])


def _long(wide: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """One row per indicator and cell with a non-zero denominator."""
    keys = ["period", "org_unit", "org_unit_level", "adm1_code", "sex", "disability"]
    parts = []
    for code in codes:
        part = wide[[*keys, f"n_{code}", f"d_{code}"]]
        part = part.rename(columns={f"n_{code}": "numerator", f"d_{code}": "denominator"})
        parts.append(part[part["denominator"] != 0].assign(indicator=code))
    cube = pd.concat(parts, ignore_index=True)[CUBE_COLUMNS]
    types = {"adm1_code": "str", "org_unit_level": np.int8, "numerator": np.int64}
    return cube.astype({**types, "denominator": np.int64})


# --- CLI -------------------------------------------------------------------------------------


def resolve_as_of(
    folder: Path, option: datetime.date | None, children: pd.DataFrame, doses: pd.DataFrame
) -> datetime.date:
    """The option, else the manifest's as_of, else the latest valid date of the (normalised)
    files."""
    if option is not None:
        return option
    manifest = folder / "manifest.json"
    if manifest.is_file():
        given = json.loads(manifest.read_text(encoding="utf-8-sig")).get("as_of")
        if given:
            return datetime.date.fromisoformat(given.strip())
    dates = [frame[c].max() for frame, cols in ((children, CHILD_COLUMNS), (doses, DOSE_COLUMNS))
             for c, kind in cols.items() if kind == "date"]  # fmt: skip
    dates = [d for d in dates if pd.notna(d)]
    if not dates:
        raise ValueError(f"{folder}: no valid date to take as_of from; give --as-of")
    return max(dates).date()


@contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    seconds[name] = round(time.perf_counter() - start, 3)


def timed_run(
    folder: Path, as_of: datetime.date | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """`pandas_cube` stage by stage, with the seconds of each stage and the peak memory."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with _timed(seconds, "read"):
        children, doses = read_tables(folder)
    rows = {CHILDREN: len(children), VACCINATIONS: len(doses)}
    with _timed(seconds, "validate"):
        children, doses = normalise(children, CHILD_COLUMNS), normalise(doses, DOSE_COLUMNS)
        as_of = resolve_as_of(folder, as_of, children, doses)
        children, doses = check_children(children, as_of), check_doses(doses)
    with _timed(seconds, "link"):
        registry = link(children, doses, as_of)
        del children, doses
    with _timed(seconds, "cube"):
        cube = indicator_cube(registry, as_of)
    return cube, {
        "rows": len(cube),
        "input": rows,
        "as_of": as_of.isoformat(),
        "seconds": seconds,
        "total": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pandas_baseline",
        description="Time the pandas baseline of the registry indicators on one export folder.",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    _, report = timed_run(args.folder, args.as_of)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
