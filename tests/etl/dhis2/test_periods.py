"""Every DHIS2 period type against dates worked out by hand from a calendar."""

from __future__ import annotations

from datetime import date

import pytest

from etl.dhis2.periods import (
    PERIOD_TYPES,
    PeriodError,
    parse_adx_period,
    parse_period,
    period_starting,
)

D = date
CASES = [
    # text, canonical, type, first day, last day
    ("20040315", "20040315", "Daily", D(2004, 3, 15), D(2004, 3, 15)),
    ("2004-03-15", "20040315", "Daily", D(2004, 3, 15), D(2004, 3, 15)),
    ("20240229", "20240229", "Daily", D(2024, 2, 29), D(2024, 2, 29)),
    ("2004W10", "2004W10", "Weekly", D(2004, 3, 1), D(2004, 3, 7)),
    ("2023W5", "2023W5", "Weekly", D(2023, 1, 30), D(2023, 2, 5)),
    ("2023W05", "2023W5", "Weekly", D(2023, 1, 30), D(2023, 2, 5)),
    ("2020W53", "2020W53", "Weekly", D(2020, 12, 28), D(2021, 1, 3)),
    ("2021W1", "2021W1", "Weekly", D(2021, 1, 4), D(2021, 1, 10)),
    ("2015W53", "2015W53", "Weekly", D(2015, 12, 28), D(2016, 1, 3)),
    ("2019W1", "2019W1", "Weekly", D(2018, 12, 31), D(2019, 1, 6)),
    ("2026W1", "2026W1", "Weekly", D(2025, 12, 29), D(2026, 1, 4)),
    ("2015WedW5", "2015WedW5", "WeeklyWednesday", D(2015, 1, 28), D(2015, 2, 3)),
    ("2021ThuW1", "2021ThuW1", "WeeklyThursday", D(2020, 12, 31), D(2021, 1, 6)),
    ("2024FriW3", "2024FriW3", "WeeklyFriday", D(2024, 1, 12), D(2024, 1, 18)),
    ("2022SatW1", "2022SatW1", "WeeklySaturday", D(2022, 1, 1), D(2022, 1, 7)),
    ("2023SunW1", "2023SunW1", "WeeklySunday", D(2023, 1, 1), D(2023, 1, 7)),
    ("2023SunW01", "2023SunW1", "WeeklySunday", D(2023, 1, 1), D(2023, 1, 7)),
    ("2015BiW1", "2015BiW1", "BiWeekly", D(2014, 12, 29), D(2015, 1, 11)),
    ("2024BiW2", "2024BiW2", "BiWeekly", D(2024, 1, 15), D(2024, 1, 28)),
    ("2020BiW27", "2020BiW27", "BiWeekly", D(2020, 12, 28), D(2021, 1, 10)),
    ("200403", "200403", "Monthly", D(2004, 3, 1), D(2004, 3, 31)),
    ("2017-01", "201701", "Monthly", D(2017, 1, 1), D(2017, 1, 31)),
    ("202402", "202402", "Monthly", D(2024, 2, 1), D(2024, 2, 29)),
    ("202302", "202302", "Monthly", D(2023, 2, 1), D(2023, 2, 28)),
    ("190002", "190002", "Monthly", D(1900, 2, 1), D(1900, 2, 28)),
    ("200002", "200002", "Monthly", D(2000, 2, 1), D(2000, 2, 29)),
    ("200401B", "200401B", "BiMonthly", D(2004, 1, 1), D(2004, 2, 29)),
    ("200402B", "200402B", "BiMonthly", D(2004, 3, 1), D(2004, 4, 30)),
    ("202306B", "202306B", "BiMonthly", D(2023, 11, 1), D(2023, 12, 31)),
    ("2004Q1", "2004Q1", "Quarterly", D(2004, 1, 1), D(2004, 3, 31)),
    ("2023Q4", "2023Q4", "Quarterly", D(2023, 10, 1), D(2023, 12, 31)),
    ("2024NovQ1", "2024NovQ1", "QuarterlyNov", D(2023, 11, 1), D(2024, 1, 31)),
    ("2024NovQ2", "2024NovQ2", "QuarterlyNov", D(2024, 2, 1), D(2024, 4, 30)),
    ("2024NovQ4", "2024NovQ4", "QuarterlyNov", D(2024, 8, 1), D(2024, 10, 31)),
    ("2004S1", "2004S1", "SixMonthly", D(2004, 1, 1), D(2004, 6, 30)),
    ("2004S2", "2004S2", "SixMonthly", D(2004, 7, 1), D(2004, 12, 31)),
    ("2004AprilS1", "2004AprilS1", "SixMonthlyApril", D(2004, 4, 1), D(2004, 9, 30)),
    ("2004AprilS2", "2004AprilS2", "SixMonthlyApril", D(2004, 10, 1), D(2005, 3, 31)),
    ("2004NovS1", "2004NovS1", "SixMonthlyNov", D(2003, 11, 1), D(2004, 4, 30)),
    ("2004NovS2", "2004NovS2", "SixMonthlyNov", D(2004, 5, 1), D(2004, 10, 31)),
    ("2004", "2004", "Yearly", D(2004, 1, 1), D(2004, 12, 31)),
    ("2004April", "2004April", "FinancialApril", D(2004, 4, 1), D(2005, 3, 31)),
    ("2023April", "2023April", "FinancialApril", D(2023, 4, 1), D(2024, 3, 31)),
    ("2004July", "2004July", "FinancialJuly", D(2004, 7, 1), D(2005, 6, 30)),
    ("2004Oct", "2004Oct", "FinancialOct", D(2004, 10, 1), D(2005, 9, 30)),
    ("2004Nov", "2004Nov", "FinancialNov", D(2003, 11, 1), D(2004, 10, 31)),
    ("2024Sep", "2024Sep", "FinancialSep", D(2024, 9, 1), D(2025, 8, 31)),
    ("2023Feb", "2023Feb", "FinancialFeb", D(2023, 2, 1), D(2024, 1, 31)),
    ("2024Aug", "2024Aug", "FinancialAug", D(2024, 8, 1), D(2025, 7, 31)),
    (" 201701 ", "201701", "Monthly", D(2017, 1, 1), D(2017, 1, 31)),
]


@pytest.mark.parametrize("text,iso,period_type,start,end", CASES)
def test_hand_checked_periods(
    text: str, iso: str, period_type: str, start: date, end: date
) -> None:
    period = parse_period(text)
    assert (period.iso, period.period_type, period.start, period.end) == (
        iso, period_type, start, end
    )  # fmt: skip


def test_every_period_type_is_covered() -> None:
    assert {case[2] for case in CASES} == set(PERIOD_TYPES)


@pytest.mark.parametrize(
    "text,reason",
    [
        ("2021W53", "week 53 does not exist in 2021"),
        ("2020W54", "week 54 does not exist"),
        ("2023W0", "week 0 does not exist"),
        ("2021BiW27", "bi-week 27 does not exist"),
        ("2024BiW0", "bi-week 0"),
        ("20230229", "no such date"),
        ("202313", "no such date"),
        ("202300", "no such date"),
        ("200407B", "bi-month must be 01-06"),
        ("2004Q5", "quarter must be 1-4"),
        ("2004S3", "six-month number must be 1 or 2"),
        ("2004NovQ0", "quarter must be 1-4"),
        ("LAST_12_MONTHS", "relative period"),
        ("THIS_YEAR", "relative period"),
        ("MONTHS_THIS_YEAR", "relative period"),
        ("TODAY", "relative period"),
        ("20240101_20240131", "date range"),
        ("2024-01-01_2024-01-31", "date range"),
        ("", "empty"),
        ("2024M1", "unknown period syntax"),
        ("2024w1", "unknown period syntax"),
        ("24Q1", "unknown period syntax"),
        ("٢٠٢٤", "unknown period syntax"),  # Arabic-Indic digits are not DHIS2 periods
        ("2024Q1x", "unknown period syntax"),
        ("2" * 200, "too long"),
    ],
)
def test_unknown_or_impossible_periods_say_why(text: str, reason: str) -> None:
    with pytest.raises(PeriodError, match=reason):
        parse_period(text)


def test_period_error_is_a_value_error_naming_the_text() -> None:
    with pytest.raises(ValueError, match="period 'nonsense': unknown period syntax"):
        parse_period("nonsense")


@pytest.mark.parametrize("text", [case[1] for case in CASES])
def test_canonical_strings_round_trip(text: str) -> None:
    period = parse_period(text)
    assert parse_period(period.iso) == period
    assert period_starting(period.period_type, period.start) == period


def test_consecutive_weeks_tile_the_calendar_across_year_ends() -> None:
    """Each week starts the day after the previous one ends, 2019 to 2027, for every weekly
    type: no gaps or overlaps at year boundaries."""
    for infix in ("", "Wed", "Thu", "Fri", "Sat", "Sun"):
        previous = None
        for year in range(2019, 2028):
            for week in range(1, 54):
                try:
                    period = parse_period(f"{year}{infix}W{week}")
                except PeriodError:
                    assert week == 53
                    continue
                if previous is not None:
                    assert (period.start - previous.end).days == 1, period
                assert (period.end - period.start).days == 6
                previous = period


def test_months_tile_the_calendar_through_leap_years() -> None:
    previous = parse_period("199912")
    for year in range(2000, 2030):
        for month in range(1, 13):
            period = parse_period(f"{year}{month:02d}")
            assert (period.start - previous.end).days == 1
            previous = period
    assert parse_period("2100").end == date(2100, 12, 31)
    assert parse_period("210002").end == date(2100, 2, 28)  # 2100 is not a leap year


def test_period_starting_refuses_a_day_that_starts_no_period() -> None:
    assert period_starting("Quarterly", date(2024, 4, 1)).iso == "2024Q2"
    with pytest.raises(PeriodError, match="no Monthly period starts"):
        period_starting("Monthly", date(2024, 4, 2))
    with pytest.raises(PeriodError, match="unknown period type"):
        period_starting("Fortnightly", date(2024, 4, 1))


@pytest.mark.parametrize(
    "text,iso",
    [
        ("2015-06-01/P1M", "201506"),
        ("2015-06-01/P1D", "20150601"),
        ("2014-12-29/P14D", "2015BiW1"),
        ("2023-01-01/P7D", "2023SunW1"),
        ("2023-01-02/P7D", "2023W1"),
        ("2024-01-01/P3M", "2024Q1"),
        ("2023-11-01/P3M", "2024NovQ1"),
        ("2024-04-01/P6M", "2024AprilS1"),
        ("2024-01-01/P1Y", "2024"),
        ("2024-07-01/P1Y", "2024July"),
        ("2024-03-01/P2M", "202402B"),
    ],
)
def test_adx_periods(text: str, iso: str) -> None:
    assert parse_adx_period(text).iso == iso


@pytest.mark.parametrize(
    "text", ["2015-06-02/P1M", "2015-06-01/P5D", "june/P1M", "2015-01-05/P14D"]
)
def test_bad_adx_periods(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_adx_period(text)
