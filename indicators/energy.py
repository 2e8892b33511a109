"""Energy per facility-month: the electricity-access ladder, fridges, carbon, heat stress.

Ladder (reference/climate.md §2.2, the *Energizing health* categories): reliable =
electricity (HHFA 1206) AND available always or often (interruptions < 2 h a day, 1209);
unreliable = electricity AND only sometimes; none = no electricity. Electricity without an
availability answer, or no electricity answer, has no level (not reported).
"""

from __future__ import annotations

import polars as pl

from indicators import emissions

RELIABLE_AVAILABILITY = ("always", "often")


def electricity_level() -> pl.Expr:
    """reliable / unreliable / none (ELECTRICITY_LEVELS), empty when not reported."""
    power, availability = pl.col("electricity"), pl.col("power_availability")
    return (
        pl.when(power.is_null()).then(None)
        .when(~power).then(pl.lit("none"))
        .when(availability.is_in(list(RELIABLE_AVAILABILITY))).then(pl.lit("reliable"))
        .when(availability == "sometimes").then(pl.lit("unreliable"))
        .alias("electricity_level")
    )  # fmt: skip


def fridges_reliable_power(level: pl.Expr) -> pl.Expr:
    """Vaccine fridges that keep cold whatever the grid does: solar direct-drive ones, and
    all of them in a facility with reliable electricity. Empty when it cannot be told (the
    fridges, or the level of a facility with mains fridges, not reported)."""
    fridges, direct = pl.col("vaccine_fridges"), pl.col("fridges_solar_direct")
    return (
        pl.when(fridges.is_null()).then(None)
        .when((level == "reliable") | (direct == fridges) | (fridges == 0)).then(fridges)
        .when(level.is_in(["unreliable", "none"])).then(direct)
        .cast(pl.Int64)
        .alias("fridges_reliable_power")
    )  # fmt: skip


def heat_stress(level: pl.Expr, heatwave_days: pl.Expr, alert_days: int) -> pl.Expr:
    """In a district under heat alert (at least `alert_days` heatwave days in the month)
    without reliable electricity (climate.md §3.6, facility-exposure overlay). False outside
    a heat alert; empty when the district's climate or the facility's level is unknown."""
    alert = heatwave_days >= alert_days
    return (
        pl.when(alert.is_null()).then(None)
        .when(~alert).then(False)
        .when(level.is_null()).then(None)
        .otherwise(level != "reliable")
        .alias("heat_stress")
    )  # fmt: skip


def carbon() -> list[pl.Expr]:
    """kg CO2e per facility-month: scope 1 (diesel), scope 2 (grid), avoided (solar)."""
    return [
        emissions.scope1_kg(pl.col("diesel_litres")).alias("co2e_scope1_kg"),
        emissions.scope2_kg(pl.col("kwh_grid")).alias("co2e_scope2_kg"),
        emissions.avoided_kg(pl.col("kwh_solar")).alias("co2e_avoided_kg"),
    ]
