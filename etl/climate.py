"""District-month climate inputs: the heatwave definition and the climate file's reader.

Heatwave definition (climate.md §3.5, the absolute threshold for Iraq [A]): a heat day is a
day with a maximum temperature of at least 45 °C (`HEAT_DAY_TMAX`); a heatwave day is a
heat day inside a run of at least 3 consecutive heat days (`HEATWAVE_MIN_DAYS`). A district
month's `heatwave_days` counts its own days only: every day of a qualifying run counts in
the month it falls in, so a run from 30 June to 3 July gives June 1 and July 3 (a run may
qualify only thanks to the next month's days). A missing day breaks a run. `etl generate
--dhis2` computes the column from simulated daily maxima with exactly this rule
(`heatwave_days`); a ministry computing it from ERA5-Land (DHIS2 Climate Tools, climate.md
§3.6) should use the same one.

The climate file (`climate/district_months.csv` in the synthetic instance; a real instance
names its files in the mapping's `facility.climate`) is a CSV whose header names every
column of `indicators.facility_data.CLIMATE_MONTHS` (any order and case; extra columns are
ignored): district (IQGnnQnn), period (YYYYMM or YYYY-MM), tmean, tmax, tmax_peak (°C),
heatwave_days, dust_days, population. Values may be empty (not measured) except district
and period. A file that cannot be read or lacks a column fails the load (one line naming
the file); a bad line is rejected with file, line and rule and the load goes on:

- `field_count`: more or fewer fields than the header (a cut or joined line);
- `district_missing` / `district_unknown`: no district, or not a district of the instance;
- `period_invalid`: not a month;
- `value_not_numeric`, `value_not_integer`: a number (whole for days and population) wanted;
- `value_out_of_range`: temperatures outside -40..60 °C, a maximum below the mean or a peak
  below the mean maximum, days outside 0..the days of the month, population outside
  1..20,000,000;
- `district_period_repeated`: the same district and month as an earlier line with other
  values (an identical line is counted as a duplicate and skipped).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from etl.dhis2.problems import Dhis2Error, Problem
from etl.dhis2.source import csv_records, decode, key, read_bytes
from etl.dhis2.values import parse_number
from indicators.facility_data import CLIMATE_MONTHS

HEAT_DAY_TMAX = 45.0  # °C: a heat day (climate.md §3.5, Iraq absolute threshold [A])
HEATWAVE_MIN_DAYS = 3  # consecutive heat days that make a heatwave
TEMPERATURE_RANGE = (-40.0, 60.0)
POPULATION_RANGE = (1, 20_000_000)
TEMPERATURES = ("tmean", "tmax", "tmax_peak")
COUNTS = ("heatwave_days", "dust_days")
PERIOD = re.compile(r"^(\d{4})-?(\d{2})$")


def heatwave_days(daily: pl.DataFrame) -> pl.DataFrame:
    """`district, date, tmax` (one row per district-day) -> `district, period (YYYYMM),
    heatwave_days`: days of runs of >= HEATWAVE_MIN_DAYS consecutive days with
    tmax >= HEAT_DAY_TMAX, each counted in its own month (a missing day or an empty tmax
    breaks a run). Every month with a day in `daily` gets a row."""
    days = daily.sort("district", "date").with_columns(
        (pl.col("tmax") >= HEAT_DAY_TMAX).fill_null(False).alias("_hot")
    )
    days = days.with_columns(
        (
            (pl.col("_hot") != pl.col("_hot").shift(1)).over("district").fill_null(True)
            | (pl.col("date").diff().over("district") != pl.duration(days=1)).fill_null(True)
        ).alias("_start")
    )
    days = days.with_columns(pl.col("_start").cum_sum().over("district").alias("_run"))
    wave = pl.col("_hot") & (pl.len().over("district", "_run") >= HEATWAVE_MIN_DAYS)
    return (
        days.with_columns(wave.alias("_wave"), pl.col("date").dt.strftime("%Y%m").alias("period"))
        .group_by("district", "period")
        .agg(pl.col("_wave").sum().cast(pl.Int64).alias("heatwave_days"))
        .sort("district", "period")
    )


@dataclass
class ClimateInputs:
    """The district months read (`CLIMATE_MONTHS` columns), the rejected lines and, per
    file, where its rows went: rows_read = rows_loaded + rows_rejected + duplicates."""

    frame: pl.DataFrame
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, dict] = field(default_factory=dict)


def read_climate(paths: Sequence[Path], districts: Iterable[str]) -> ClimateInputs:
    """Read and check climate files; raises `Dhis2Error` for a file that is unusable."""
    known = set(districts)
    rows: list[dict] = []
    problems: list[Problem] = []
    files: dict[str, dict] = {}
    seen: dict[tuple[str, str], tuple[str, int, tuple]] = {}
    for path in paths:
        files[str(path)] = _read_file(Path(path), known, rows, problems, seen)
    frame = pl.DataFrame(rows, schema=CLIMATE_MONTHS) if rows else None
    if frame is None:
        frame = pl.DataFrame(schema=CLIMATE_MONTHS)
    return ClimateInputs(frame.sort("district", "period"), problems, files)


def _read_file(
    path: Path,
    known: set[str],
    rows: list[dict],
    problems: list[Problem],
    seen: dict[tuple[str, str], tuple[str, int, tuple]],
) -> dict:
    file = str(path)
    records = csv_records(file, decode(file, read_bytes(path)))
    header = next(records, None)
    if header is None:
        raise Dhis2Error(file, "an empty climate file (it needs a header)")
    names = [key(name) for name in header[1]]
    wanted = {key(column): column for column in CLIMATE_MONTHS}
    missing = [column for k, column in wanted.items() if k not in names]
    if missing:
        raise Dhis2Error(file, f"the climate header lacks {', '.join(missing)}")
    index = {wanted[k]: i for i, k in enumerate(names) if k in wanted and k not in names[:i]}
    account = {"kind": "climate", "rows_read": 0, "rows_loaded": 0, "rows_rejected": 0,
               "duplicates": 0}  # fmt: skip
    for line, fields in records:
        account["rows_read"] += 1
        try:
            row = _row(fields, len(names), index, known)
        except _Reject as reject:
            problems.append(Problem(file, f"line {line}", reject.code, reject.reason))
            account["rows_rejected"] += 1
            continue
        values = tuple(row.values())
        first = seen.get((row["district"], row["period"]))
        if first is not None:
            if first[2] == values:
                account["duplicates"] += 1
                continue
            reason = f"{row['district']} {row['period']} again, first at {first[0]} line {first[1]}"
            problems.append(Problem(file, f"line {line}", "district_period_repeated", reason))
            account["rows_rejected"] += 1
            continue
        seen[(row["district"], row["period"])] = (path.name, line, values)
        rows.append(row)
        account["rows_loaded"] += 1
    return account


class _Reject(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _row(fields: list[str], width: int, index: dict[str, int], known: set[str]) -> dict:
    if len(fields) != width:  # a cut or a joined line, never a row with its cells moved
        raise _Reject("field_count", f"{len(fields)} fields, the header has {width}")
    cell = {c: (fields[i] if i < len(fields) else "") for c, i in index.items()}
    district = cell["district"]
    if not district:
        raise _Reject("district_missing", "no district")
    if district not in known:
        raise _Reject("district_unknown", f"{district[:40]!r} is not a district of the instance")
    period = _period(cell["period"])
    row: dict = {"district": district, "period": period}
    for column in CLIMATE_MONTHS:
        if column not in row:
            row[column] = _number(column, cell[column])
    _check_ranges(row)
    return row


def _period(text: str) -> str:
    match = PERIOD.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise _Reject("period_invalid", f"{text[:40]!r} is not a month (YYYYMM or YYYY-MM)")
    return match.group(1) + match.group(2)


def _number(column: str, text: str) -> float | int | None:
    if not text:
        return None
    number = parse_number(text)
    if number is None:
        raise _Reject("value_not_numeric", f"{column} {text[:40]!r} is not a number")
    if CLIMATE_MONTHS[column] == pl.Int64:
        if number != int(number):
            raise _Reject("value_not_integer", f"{column} {text[:40]!r} is not a whole number")
        return int(number)
    return number


def _check_ranges(row: dict) -> None:
    low, high = TEMPERATURE_RANGE
    for column in TEMPERATURES:
        value = row[column]
        if value is not None and not low <= value <= high:
            raise _Reject("value_out_of_range", f"{column} {value} °C is outside {low}..{high}")
    if row["tmax"] is not None and row["tmean"] is not None and row["tmax"] < row["tmean"]:
        raise _Reject("value_out_of_range", f"tmax {row['tmax']} is below tmean {row['tmean']}")
    if row["tmax_peak"] is not None and row["tmax"] is not None and row["tmax_peak"] < row["tmax"]:
        reason = f"tmax_peak {row['tmax_peak']} is below the mean maximum {row['tmax']}"
        raise _Reject("value_out_of_range", reason)
    days = calendar.monthrange(int(row["period"][:4]), int(row["period"][4:]))[1]
    for column in COUNTS:
        value = row[column]
        if value is not None and not 0 <= value <= days:
            raise _Reject("value_out_of_range", f"{column} {value} is outside 0..{days}")
    low_pop, high_pop = POPULATION_RANGE
    population = row["population"]
    if population is not None and not low_pop <= population <= high_pop:
        reason = f"population {population} is outside {low_pop:,}..{high_pop:,}"
        raise _Reject("value_out_of_range", reason)
