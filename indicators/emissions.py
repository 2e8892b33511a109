"""Emission factors of the facility carbon footprint: the one place that holds them.

Values and sources (reference/climate.md §2.5; an operator overrides them with
`MIZAN_EF_DIESEL` / `MIZAN_EF_GRID`, see indicators/config.py):

| Factor      | Value                | Source                                                   |
|-------------|----------------------|----------------------------------------------------------|
| `EF_DIESEL` | 2.68 kg CO2e / litre | IPCC 2006 Vol. 2 Ch. 2 default for gas/diesel oil,       |
|             |                      | 74,100 kg CO2/TJ, x NCV 43.0 TJ/Gg x density 0.84 kg/L   |
|             |                      | (CH4 and N2O add ~0.005). DEFRA: 2.66 (2024), 2.755 (2025)|
| `EF_GRID`   | 0.52 kg CO2e / kWh   | Iraq grid, generation-based: Ember via OWID energy-data, |
|             |                      | 500-521 g/kWh over 2013-2020 (518 in 2020); 499 in 2022  |
| solar PV    | 0                    | operational emissions; lifecycle ignored                 |

Scope 1 = litres of diesel x EF_DIESEL (on-site generators); Scope 2 = grid kWh x EF_GRID
(purchased electricity; transmission losses not found for Iraq, so not added).

Avoided by solar = solar kWh x EF_GRID: we assume solar displaces grid electricity, the
conservative choice (0.52 kg/kWh). Displacing the diesel generator would give about
0.80 kg/kWh (2.68 kg/L x 0.30 L/kWh, §2.6), but a PV array runs in daylight, when the grid
is most often on, and the generator covers the cuts, evening and night included.
"""

from __future__ import annotations

import polars as pl

from indicators import config

EF_DIESEL = 2.68  # kg CO2e per litre of diesel (IPCC 2006), see the table above
EF_GRID = 0.52  # kg CO2e per kWh of Iraq grid electricity (Ember 2013-2020)
SOLAR_DISPLACES = "grid"  # the source whose factor prices a solar kWh (module docstring)


def diesel_factor() -> float:
    """The diesel factor in use: `MIZAN_EF_DIESEL` or EF_DIESEL."""
    override = config.ef_diesel()
    return EF_DIESEL if override is None else override


def grid_factor() -> float:
    """The grid factor in use: `MIZAN_EF_GRID` or EF_GRID."""
    override = config.ef_grid()
    return EF_GRID if override is None else override


def scope1_kg(diesel_litres: pl.Expr) -> pl.Expr:
    """kg CO2e of the diesel burnt on site (empty when the litres were not reported)."""
    return diesel_litres * diesel_factor()


def scope2_kg(kwh_grid: pl.Expr) -> pl.Expr:
    """kg CO2e of the grid electricity drawn."""
    return kwh_grid * grid_factor()


def avoided_kg(kwh_solar: pl.Expr) -> pl.Expr:
    """kg CO2e that the grid would have emitted for the solar kWh (SOLAR_DISPLACES)."""
    return kwh_solar * grid_factor()
