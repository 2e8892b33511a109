"""DHIS2 period identifiers (`../shared/reference/dhis2.md` §2): parse, date, write back.

Every period type DHIS2 stores data for is read into a `Period` with its canonical string
(what DHIS2 exports: `2023W5`, never `2023W05`; `201701`, never `2017-01`), its `periodType`
name and its first and last day. The rules are those of dhis2-core's ISO calendar:

- Weekly types: week 1 is the first week (starting on the type's day) with at least four days
  in the year, i.e. the one holding 4 January (ISO 8601 for Monday weeks); a week number past
  the year's last week (`2021W53`) is refused, not rolled into the next year.
- BiWeekly `yyyyBiWn` = ISO weeks 2n-1 and 2n; n may reach 27 in a 53-week year.
- BiMonthly `yyyyMMB`: MM is the bi-month number 01-06 (`200402B` = March-April).
- The November types belong to the year they END in: `2024NovQ1` = Nov 2023-Jan 2024,
  `2004NovS1` = Nov 2003-Apr 2004, `2004Nov` = Nov 2003-Oct 2004. Other financial years
  start in their label's year (`2004April` = Apr 2004-Mar 2005).

Relative periods (`LAST_12_MONTHS`) and date ranges only exist in analytics requests; they
are refused with a message saying so, as is anything else unknown.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from etl.dhis2.problems import Dhis2Error

WEEK_START = {  # periodType -> weekday (Monday = 0) and the infix of its ISO string
    "Weekly": (0, ""),
    "WeeklyWednesday": (2, "Wed"),
    "WeeklyThursday": (3, "Thu"),
    "WeeklyFriday": (4, "Fri"),
    "WeeklySaturday": (5, "Sat"),
    "WeeklySunday": (6, "Sun"),
}
WEEK_INFIX = {infix: name for name, (_, infix) in WEEK_START.items()}
FINANCIAL = {  # suffix -> (periodType, first month)
    "April": ("FinancialApril", 4),
    "July": ("FinancialJuly", 7),
    "Oct": ("FinancialOct", 10),
    "Nov": ("FinancialNov", 11),
    "Sep": ("FinancialSep", 9),
    "Feb": ("FinancialFeb", 2),
    "Aug": ("FinancialAug", 8),
}
FINANCIAL_SUFFIX = {name: suffix for suffix, (name, _) in FINANCIAL.items()}
MONTHS = {  # periodType -> length in months, for the month-based types
    "Monthly": 1,
    "BiMonthly": 2,
    "Quarterly": 3,
    "QuarterlyNov": 3,
    "SixMonthly": 6,
    "SixMonthlyApril": 6,
    "SixMonthlyNov": 6,
    "Yearly": 12,
    **{name: 12 for name, _ in FINANCIAL.values()},
}
PERIOD_TYPES = ("Daily", *WEEK_START, "BiWeekly", *MONTHS)

RELATIVE = re.compile(
    r"(TODAY|YESTERDAY|(THIS|LAST)_[A-Z0-9_]+|LAST_[0-9]+_[A-Z_]+|"
    r"(WEEKS|MONTHS|BIMONTHS|QUARTERS)_(THIS|LAST)_YEAR)"
)
DATE_RANGE = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}_[0-9]{4}-?[0-9]{2}-?[0-9]{2}")
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("day", re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})|([0-9]{4})-([0-9]{2})-([0-9]{2})")),
    ("week", re.compile(r"([0-9]{4})(Wed|Thu|Fri|Sat|Sun)?W([0-9]{1,2})")),
    ("biweek", re.compile(r"([0-9]{4})BiW([0-9]{1,2})")),
    ("month", re.compile(r"([0-9]{4})-?([0-9]{2})")),
    ("bimonth", re.compile(r"([0-9]{4})([0-9]{2})B")),
    ("quarter", re.compile(r"([0-9]{4})(Nov)?Q([0-9])")),
    ("half", re.compile(r"([0-9]{4})(April|Nov)?S([0-9])")),
    ("year", re.compile(r"([0-9]{4})")),
    ("financial", re.compile(r"([0-9]{4})(April|July|Oct|Nov|Sep|Feb|Aug)")),
)
ADX_DURATIONS = {"P1D", "P7D", "P14D", "P1M", "P2M", "P3M", "P6M", "P1Y", "P12M"}


class PeriodError(Dhis2Error, ValueError):
    """A text that is not a DHIS2 data period; `reason` says why."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        super().__init__(f"period {text[:40]!r}", reason)


@dataclass(frozen=True)
class Period:
    """A DHIS2 period: canonical string, `periodType` name, first and last day."""

    iso: str
    period_type: str
    start: date
    end: date


def parse_period(text: str) -> Period:
    """Read any DHIS2 period string (§2), input variants included; raise `PeriodError`."""
    if not isinstance(text, str):
        raise PeriodError(repr(text), "a period must be text")
    return _parse(text.strip())


@lru_cache(maxsize=65_536)
def _parse(text: str) -> Period:
    if not text:
        raise PeriodError(text, "the period is empty")
    if len(text) > 40:
        raise PeriodError(text, "unknown period syntax (too long)")
    if DATE_RANGE.fullmatch(text):
        raise PeriodError(text, "a date range (event queries), not a data period")
    if RELATIVE.fullmatch(text):
        raise PeriodError(text, "a relative period (analytics requests only), not a data period")
    for kind, pattern in PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return _build(*_START[kind](text, match.groups()))
            except PeriodError as error:
                if error.text == text:
                    raise
                raise PeriodError(text, error.reason) from error
            except (ValueError, OverflowError) as error:
                raise PeriodError(text, "outside the calendar") from error
    raise PeriodError(text, "unknown period syntax")


def period_starting(period_type: str, start: date) -> Period:
    """The period of this type that begins on `start` (raises if none does)."""
    if period_type not in PERIOD_TYPES:
        raise PeriodError(period_type, "unknown period type")
    period = _build(period_type, start)
    if _parse(period.iso).start != start:
        raise PeriodError(str(start), f"no {period_type} period starts on this day")
    return period


def _build(period_type: str, start: date) -> Period:
    try:
        end = _end(period_type, start)
        iso = _canonical(period_type, start)
    except (ValueError, OverflowError) as error:
        raise PeriodError(str(start), f"outside the calendar ({error})") from error
    return Period(iso, period_type, start, end)


def parse_adx_period(text: str) -> Period:
    """Read an ADX period `2015-06-01/P1M` (start/ISO 8601 duration) as a DHIS2 period."""
    first, _, duration = text.strip().partition("/")
    try:
        start = date.fromisoformat(first)
    except ValueError as error:
        raise PeriodError(text, "ADX period start is not a yyyy-MM-dd date") from error
    duration = duration.upper()
    if duration not in ADX_DURATIONS:
        raise PeriodError(text, f"unsupported ADX period duration {duration[:12]!r}")
    for period_type in _types_for(duration, start):
        try:
            return period_starting(period_type, start)
        except PeriodError:
            continue
    raise PeriodError(text, "no DHIS2 period of that length starts on that day")


def _types_for(duration: str, start: date) -> list[str]:
    if duration == "P1D":
        return ["Daily"]
    if duration == "P7D":
        return [name for name, (day, _) in WEEK_START.items() if day == start.weekday()]
    if duration == "P14D":
        return ["BiWeekly"] if start.weekday() == 0 else []
    months = {"P1M": 1, "P2M": 2, "P3M": 3, "P6M": 6, "P1Y": 12, "P12M": 12}[duration]
    if start.day != 1:
        return []
    return [name for name, length in MONTHS.items() if length == months]


# --- start dates ------------------------------------------------------------------------


def _day(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    year, month, day = (int(g) for g in groups if g is not None)
    return "Daily", _date(text, year, month, day)


def _week(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    year, infix, week = int(groups[0] or 0), groups[1] or "", int(groups[2] or 0)
    period_type = WEEK_INFIX[infix]
    weekday = WEEK_START[period_type][0]
    first = _week_one(year, weekday)
    start = first + timedelta(weeks=week - 1)
    if week < 1 or start >= _week_one(year + 1, weekday):
        raise PeriodError(text, f"week {week} does not exist in {year}")
    return period_type, start


def _biweek(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    year, number = int(groups[0] or 0), int(groups[1] or 0)
    week = 2 * number - 1
    if number < 1 or week > _iso_weeks(year):
        raise PeriodError(text, f"bi-week {number} does not exist in {year}")
    return "BiWeekly", date.fromisocalendar(year, week, 1)


def _month(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    return "Monthly", _date(text, int(groups[0] or 0), int(groups[1] or 0), 1)


def _bimonth(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    year, number = int(groups[0] or 0), int(groups[1] or 0)
    if not 1 <= number <= 6:
        raise PeriodError(text, "bi-month must be 01-06")
    return "BiMonthly", _date(text, year, 2 * number - 1, 1)


def _quarter(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    year, nov, quarter = int(groups[0] or 0), groups[1], int(groups[2] or 0)
    if not 1 <= quarter <= 4:
        raise PeriodError(text, "quarter must be 1-4")
    if nov:  # Q1 starts in November of the year before
        month = 11 + 3 * (quarter - 1)
        return "QuarterlyNov", _date(text, year - 1 + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return "Quarterly", _date(text, year, 3 * quarter - 2, 1)


def _half(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    year, variant, half = int(groups[0] or 0), groups[1], int(groups[2] or 0)
    if half not in (1, 2):
        raise PeriodError(text, "six-month number must be 1 or 2")
    if variant == "April":
        return "SixMonthlyApril", _date(text, year, 4 if half == 1 else 10, 1)
    if variant == "Nov":
        return "SixMonthlyNov", _date(
            text, year - 1 if half == 1 else year, 11 if half == 1 else 5, 1
        )
    return "SixMonthly", _date(text, year, 1 if half == 1 else 7, 1)


def _year(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    return "Yearly", _date(text, int(groups[0] or 0), 1, 1)


def _financial(text: str, groups: tuple[str | None, ...]) -> tuple[str, date]:
    year, suffix = int(groups[0] or 0), groups[1] or ""
    period_type, month = FINANCIAL[suffix]
    return period_type, _date(text, year - 1 if suffix == "Nov" else year, month, 1)


_START = {
    "day": _day,
    "week": _week,
    "biweek": _biweek,
    "month": _month,
    "bimonth": _bimonth,
    "quarter": _quarter,
    "half": _half,
    "year": _year,
    "financial": _financial,
}


def _date(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as error:
        raise PeriodError(text, f"no such date ({error})") from error


def _week_one(year: int, weekday: int) -> date:
    """First day of week 1: the `weekday` on or before 4 January."""
    try:
        fourth = date(year, 1, 4)
    except ValueError as error:
        raise PeriodError(str(year), "year outside the calendar") from error
    return fourth - timedelta(days=(fourth.weekday() - weekday) % 7)


def _iso_weeks(year: int) -> int:
    try:
        return date(year, 12, 28).isocalendar().week
    except ValueError as error:
        raise PeriodError(str(year), "year outside the calendar") from error


# --- end dates and canonical strings ----------------------------------------------------


def _last_day(start: date, months: int) -> date:
    """Last day of the `months`-th month counted from `start`'s month (1 = that month)."""
    index = start.year * 12 + start.month - 1 + months - 1
    year, month = index // 12, index % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def _end(period_type: str, start: date) -> date:
    if period_type == "Daily":
        return start
    if period_type in WEEK_START:
        return start + timedelta(days=6)
    if period_type == "BiWeekly":
        return start + timedelta(days=13)
    return _last_day(start, MONTHS[period_type])


def _canonical(period_type: str, start: date) -> str:
    if period_type == "Daily":
        return start.strftime("%Y%m%d")
    if period_type in WEEK_START:
        weekday, infix = WEEK_START[period_type]
        year = (start + timedelta(days=3)).year  # the year holding 4+ days of the week
        week = (start - _week_one(year, weekday)).days // 7 + 1
        return f"{year:04d}{infix}W{week}"
    if period_type == "BiWeekly":
        iso = start.isocalendar()
        return f"{iso.year:04d}BiW{(iso.week + 1) // 2}"
    return _canonical_months(period_type, start)


def _canonical_months(period_type: str, start: date) -> str:
    year, month = start.year, start.month
    if period_type == "Monthly":
        return f"{year:04d}{month:02d}"
    if period_type == "BiMonthly":
        return f"{year:04d}{(month + 1) // 2:02d}B"
    if period_type == "Quarterly":
        return f"{year:04d}Q{(month + 2) // 3}"
    if period_type == "QuarterlyNov":
        return f"{year + (month == 11):04d}NovQ{(month + 1) % 12 // 3 + 1}"
    if period_type == "SixMonthly":
        return f"{year:04d}S{1 if month < 7 else 2}"
    if period_type == "SixMonthlyApril":
        return f"{year:04d}AprilS{1 if month < 10 else 2}"
    if period_type == "SixMonthlyNov":
        return f"{year + (month == 11):04d}NovS{1 if month == 11 else 2}"
    if period_type == "Yearly":
        return f"{year:04d}"
    suffix = FINANCIAL_SUFFIX[period_type]
    return f"{year + (suffix == 'Nov'):04d}{suffix}"
