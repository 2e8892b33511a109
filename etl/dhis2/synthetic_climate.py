"""Synthetic district-month climate for the synthetic instance (`climate/district_months.csv`).

Daily maximum temperatures per district follow climate.md §4.2's synthetic calibration by
zone (a seasonal cosine peaking in late July, autocorrelated noise, a district offset and
a few heat spells a summer shared by a governorate's districts); daily minima subtract a
diurnal range of about 16 °C in summer and 9 °C in winter (July minima 29-32 °C in the
south, 22-26 °C in Kurdistan). Heatwave days are counted from the daily maxima by
`etl.climate.heatwave_days` (the documented definition). Dust days: about 30 a year in
the south, 25 in the centre, 15 in the north and 8 in Kurdistan, mostly March to July,
with stormy governorate-months. Measured on seed 1 with the boundary pack (101 districts),
summer 2025, district means, south / centre / north / Kurdistan: Jul-Aug mean Tmax 47.4 /
46.1 / 43.5 / 40.2 °C; days >= 45 °C 72 / 52 / 19 / 2; days >= 50 °C 10 / 5 / 0.2 / 0;
heatwave days 68 / 46 / 15 / 0.6; dust days 32 / 20 / 14 / 6 a year.

Population per district: Iraq's 41.2 million (2021, climate.md §4.1) split over the
governorates by the boundary pack's populations (equally without the pack) and within a
governorate by the registry's district weights (its facilities per district).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from etl.climate import heatwave_days
from indicators import geography
from indicators.facility_data import CLIMATE_MONTHS

IRAQ_POPULATION = 41_200_000
ZONES = ("south", "centre", "north", "kurdistan")
ZONE_OF = {
    "IQG02": 0, "IQG14": 0, "IQG17": 0, "IQG03": 0, "IQG05": 0, "IQG04": 0, "IQG12": 0,
    "IQG18": 0, "IQG07": 0,  # Basrah, Maysan, Dhi Qar, Muthanna, Qadisiyah, Najaf, Karbala,
    # Wasit, Babil
    "IQG08": 1, "IQG10": 1, "IQG16": 1, "IQG01": 1,  # Baghdad, Diyala, Salah al-Din, Anbar
    "IQG15": 2, "IQG13": 2,  # Ninewa, Kirkuk
    "IQG11": 3, "IQG09": 3, "IQG06": 3,  # Erbil, Duhok, Sulaymaniyah
}  # fmt: skip
PEAK_TMAX = np.array([48.0, 46.3, 44.3, 41.0])  # climatological maximum, late July
JANUARY_TMAX = np.array([17.5, 16.0, 13.0, 10.0])
DUST_DAYS_A_YEAR = np.array([30.0, 25.0, 15.0, 8.0])
DUST_SEASON = np.array([0.04, 0.06, 0.10, 0.13, 0.14, 0.14, 0.13, 0.09, 0.06, 0.05, 0.03, 0.03])
PEAK_DAY = 205  # day of the year of the climatological maximum
DIURNAL = (12.5, 3.5)  # diurnal range: mean and half-amplitude (16 °C in July, 9 in January)
NOISE_PHI = 0.75  # day-to-day persistence of temperature anomalies


@dataclass
class Climate:
    """District x month arrays (districts in the instance's order) and the CSV frame."""

    frame: pl.DataFrame  # CLIMATE_MONTHS columns
    tmax: np.ndarray  # mean daily maximum
    heatwave_days: np.ndarray
    dust_days: np.ndarray
    population: np.ndarray  # per district


def district_population(codes: list[str], weights: np.ndarray) -> np.ndarray:
    """41.2 M over governorates by the pack's populations, then by district weights."""
    govs = [code[:5] for code in codes]
    known = geography.populations()
    share = {} if known is None else dict(known.select("adm1_code", "population").rows())
    gov_codes = sorted(set(govs))
    gov_pop = np.array([float(share.get(g, 0)) for g in gov_codes])
    if gov_pop.sum() <= 0:
        gov_pop = np.ones(len(gov_codes))
    gov_pop[gov_pop <= 0] = gov_pop[gov_pop > 0].mean()
    gov_pop = gov_pop / gov_pop.sum() * IRAQ_POPULATION
    index = np.array([gov_codes.index(g) for g in govs])
    within = weights / np.bincount(index, weights)[index]
    return np.rint(gov_pop[index] * within).astype(np.int64)


def _days(months: list[tuple[int, int]]) -> np.ndarray:
    first = date(*months[0], 1)
    year, month = months[-1]
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return np.arange(np.datetime64(first), np.datetime64(last) + 1)


def _spells(rng: np.random.Generator, days: np.ndarray, n_gov: int) -> np.ndarray:
    """Governorate x day extra heat: about 2.5 spells a summer of 3-8 days, +2 to +4.5 °C."""
    extra = np.zeros((n_gov, len(days)))
    years = days.astype("datetime64[Y]").astype(int) + 1970
    for year in np.unique(years):
        summer = np.flatnonzero((years == year) & _in_summer(days))
        if summer.size == 0:
            continue
        for g in range(n_gov):
            for _ in range(rng.poisson(2.5)):
                start = rng.integers(0, summer.size)
                length = int(rng.integers(3, 9))
                span = summer[start : start + length]
                bump = np.sin(np.linspace(0.3, np.pi - 0.3, len(span)))
                extra[g, span] += rng.uniform(2.0, 4.5) * bump
    return extra


def _in_summer(days: np.ndarray) -> np.ndarray:
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    return (month >= 6) & (month <= 8)


def simulate(rng: np.random.Generator, codes: list[str], weights: np.ndarray,
             months: list[tuple[int, int]]) -> Climate:  # fmt: skip
    """Daily maxima and minima per district, summarised per month."""
    days = _days(months)
    n, d = len(codes), len(days)
    zone = np.array([ZONE_OF.get(code[:5], 1) for code in codes])
    govs = sorted({code[:5] for code in codes})
    gov = np.array([govs.index(code[:5]) for code in codes])
    doy = (days - days.astype("datetime64[Y]")).astype(int) + 1
    season = np.cos(2 * np.pi * (doy - PEAK_DAY) / 365.25)  # 1 in late July, -1 in January
    mid, half = (PEAK_TMAX + JANUARY_TMAX) / 2, (PEAK_TMAX - JANUARY_TMAX) / 2
    normal = mid[zone][:, None] + half[zone][:, None] * season[None, :]
    sd = 2.5 - 0.4 * season  # calmer summers
    shocks = rng.normal(0.0, 1.0, (n, d)) * sd[None, :] * np.sqrt(1 - NOISE_PHI**2)
    noise = np.zeros((n, d))
    noise[:, 0] = shocks[:, 0] / np.sqrt(1 - NOISE_PHI**2)
    for t in range(1, d):
        noise[:, t] = NOISE_PHI * noise[:, t - 1] + shocks[:, t]
    offset = rng.normal(0.0, 0.5, n)[:, None]
    tmax = normal + noise + offset + _spells(rng, days, len(govs))[gov]
    diurnal = DIURNAL[0] + DIURNAL[1] * season[None, :] + rng.normal(0.0, 1.0, (n, d))
    tmin = tmax - diurnal
    daily = pl.DataFrame({
        "district": np.repeat(np.array(codes), d),
        "date": np.tile(days, n),
        "tmax": tmax.ravel().round(1),
        "tmean": ((tmax + tmin) / 2).ravel(),
    })  # fmt: skip
    waves = heatwave_days(daily.select("district", "date", "tmax"))
    monthly = (
        daily.with_columns(pl.col("date").dt.strftime("%Y%m").alias("period"))
        .group_by("district", "period")
        .agg(pl.col("tmean").mean(), pl.col("tmax").mean(), pl.col("tmax").max().alias("tmax_peak"))
        .join(waves, on=["district", "period"])
    )
    population = district_population(codes, weights)
    dust = _dust(rng, zone, gov, len(govs), months)
    order = {code: i for i, code in enumerate(codes)}
    frame = (
        monthly.with_columns(
            pl.col("district").replace_strict(order, return_dtype=pl.Int64).alias("_d"),
        )
        .sort("_d", "period")
        .with_columns(
            pl.Series("dust_days", dust.ravel()),
            pl.Series("population", np.repeat(population, len(months))),
            pl.col("tmean").round(1),
            pl.col("tmax").round(1),
        )
        .select(list(CLIMATE_MONTHS))
    )
    shape = (n, len(months))
    return Climate(
        frame=frame,
        tmax=frame["tmax"].to_numpy().reshape(shape),
        heatwave_days=frame["heatwave_days"].to_numpy().reshape(shape),
        dust_days=dust,
        population=population,
    )


def _dust(rng: np.random.Generator, zone: np.ndarray, gov: np.ndarray, n_gov: int,
          months: list[tuple[int, int]]) -> np.ndarray:  # fmt: skip
    """District x month dust-storm days: zone rate x season x a stormy-governorate factor."""
    moy = np.array([m for _, m in months]) - 1
    storm = rng.gamma(1.5, 1 / 1.5, (n_gov, len(months)))
    lam = DUST_DAYS_A_YEAR[zone][:, None] * DUST_SEASON[moy][None, :] * storm[gov]
    lengths = np.array([(date(y + m // 12, m % 12 + 1, 1) - date(y, m, 1)).days for y, m in months])
    return np.minimum(rng.poisson(lam), lengths[None, :]).astype(np.int64)


CLIMATE_FILE = "climate/district_months.csv"
BAD_DISTRICT = "IQG99Q99"  # one line for a district no instance has, for the reader to reject


def write(out: Path, climate: Climate) -> int:
    """`climate/district_months.csv` with one bad line at the end; returns the lines written."""
    path = out / CLIMATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    bad = climate.frame.head(1).with_columns(pl.lit(BAD_DISTRICT).alias("district"))
    pl.concat([climate.frame, bad]).write_csv(path)
    return climate.frame.height + 1
