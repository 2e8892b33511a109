"""The heatwave definition on hand-made daily series, and the climate file's reader on a
broken file (file, line, rule)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from etl.climate import heatwave_days, read_climate
from etl.dhis2.problems import Dhis2Error
from indicators.facility_data import CLIMATE_MONTHS


def _series(district: str, start: date, tmax: list[float | None], skip: set[date] = frozenset()
            ) -> list[tuple[str, date, float | None]]:  # fmt: skip
    days = [start + timedelta(days=i) for i in range(len(tmax))]
    return [(district, d, t) for d, t in zip(days, tmax, strict=True) if d not in skip]


def test_heatwave_days_need_three_days_at_45_and_count_in_their_own_month() -> None:
    hot, cool = 46.0, 40.0
    june = [cool] * 30
    for day in (1, 2):  # a run of 2: no heatwave
        june[day - 1] = hot
    for day in (10, 11, 12):  # a run of 3
        june[day - 1] = 45.0  # exactly the threshold counts
    for day in range(20, 25):  # a run of 5
        june[day - 1] = hot
    june[28], june[29] = hot, hot  # 29-30 June, continued by 1-2 July: a run of 4
    july = [hot, hot] + [cool] * 7 + [hot, hot, hot, hot, 44.9, hot, None, hot, hot]
    # 10-13 July run (4 days), 14 July 44.9 breaks, 15 July alone, 16 July empty, 17-18 July 2
    rows = _series("A", date(2024, 6, 1), june + july)
    # B: a run broken by a missing day (3 and 5 August, 4 August not in the data)
    rows += _series("B", date(2024, 8, 1), [hot] * 6, skip={date(2024, 8, 4)})
    daily = pl.DataFrame(rows, schema={"district": pl.String, "date": pl.Date, "tmax": pl.Float64},
                         orient="row")  # fmt: skip
    got = heatwave_days(daily.sample(fraction=1.0, shuffle=True, seed=3))  # any row order
    assert got.rows() == [("A", "202406", 3 + 5 + 2), ("A", "202407", 2 + 4), ("B", "202408", 3)]


def test_heatwave_days_are_zero_in_a_month_without_one() -> None:
    daily = pl.DataFrame({"district": ["C"] * 3, "date": [date(2024, 1, d) for d in (1, 2, 3)],
                          "tmax": [15.0, 16.0, 14.0]})  # fmt: skip
    assert heatwave_days(daily).rows() == [("C", "202401", 0)]


HEADER = "Population,District,Period,TMean,TMax,TMax_Peak,Heatwave_Days,Dust_Days,rainfall"
BROKEN = f"""{HEADER}
1500000,IQG08Q01,202406,35.1,44.2,48.3,6,2,0
1500000,IQG99Q01,202406,35.1,44.2,48.3,6,2,0
1500000,IQG08Q01,2024-13,35.1,44.2,48.3,6,2,0
1500000,IQG08Q02,202406,35.1,hot,48.3,6,2,0
1500000,IQG08Q02,202407,35.1,44.2,48.3,2.5,2,0
1500000,IQG08Q02,202408,35.1,70,48.3,6,2,0
1500000,IQG08Q02,202402,15.1,19.2,24.3,31,2,0
1500000,IQG08Q01,202406,35.1,44.2,48.3,6,2,0
1500000,IQG08Q01,202406,35.1,44.2,48.3,7,2,0
1500000,IQG08Q02,202409,35.1,44.2,48.3,6,2,0,extra
1500000,IQG08Q02,202412,35.1,44.2,48.3,6
1500000,,202406,35.1,44.2,48.3,6,2,0
900000,IQG08Q02,2024-02,,,,,,
1500000,IQG08Q02,202410,35.1,34.2,48.3,6,2,0
0,IQG08Q02,202411,25.1,34.2,38.3,0,2,0
"""


def test_the_reader_rejects_each_bad_line_with_its_rule(tmp_path: Path) -> None:
    path = tmp_path / "climate.csv"
    path.write_text(BROKEN)
    found = read_climate([path], ["IQG08Q01", "IQG08Q02"])
    got = [(p.file, p.position, p.code, p.reason) for p in found.problems]
    file = str(path)
    assert got == [
        (file, "line 3", "district_unknown", "'IQG99Q01' is not a district of the instance"),
        (file, "line 4", "period_invalid", "'2024-13' is not a month (YYYYMM or YYYY-MM)"),
        (file, "line 5", "value_not_numeric", "tmax 'hot' is not a number"),
        (file, "line 6", "value_not_integer", "heatwave_days '2.5' is not a whole number"),
        (file, "line 7", "value_out_of_range", "tmax 70.0 °C is outside -40.0..60.0"),
        (file, "line 8", "value_out_of_range", "heatwave_days 31 is outside 0..29"),
        (file, "line 10", "district_period_repeated",
         "IQG08Q01 202406 again, first at climate.csv line 2"),
        (file, "line 11", "field_count", "10 fields, the header has 9"),
        (file, "line 12", "field_count", "7 fields, the header has 9"),
        (file, "line 13", "district_missing", "no district"),
        (file, "line 15", "value_out_of_range", "tmax 34.2 is below tmean 35.1"),
        (file, "line 16", "value_out_of_range", "population 0 is outside 1..20,000,000"),
    ]  # fmt: skip
    assert found.files[file] == {"kind": "climate", "rows_read": 15, "rows_loaded": 2,
                                 "rows_rejected": 12, "duplicates": 1}  # fmt: skip
    assert found.frame.schema == pl.Schema(CLIMATE_MONTHS)
    assert found.frame.rows() == [
        ("IQG08Q01", "202406", 35.1, 44.2, 48.3, 6, 2, 1500000),
        ("IQG08Q02", "202402", None, None, None, None, None, 900000),
    ]


def test_a_file_without_every_column_or_header_fails_whole(tmp_path: Path) -> None:
    path = tmp_path / "climate.csv"
    path.write_text("district,period,tmean,tmax\nIQG08Q01,202406,35,44\n")
    with pytest.raises(Dhis2Error) as error:
        read_climate([path], ["IQG08Q01"])
    assert str(error.value) == (
        f"{path}: the climate header lacks tmax_peak, heatwave_days, dust_days, population"
    )
    path.write_text("\n\n")
    with pytest.raises(Dhis2Error, match="an empty climate file"):
        read_climate([path], ["IQG08Q01"])
