"""Map framing: which part of the boundary pack a map shows and how far it zooms.

Bounding boxes come from the installed boundary pack and are computed once per pack.
Without the pack there are no boundaries, and callers fall back to centroid dots.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache

import numpy as np

from indicators import geography

Box = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
TILE_PX = 512
VIEW_PX = (600, 460)  # the map card's usual size on a laptop, for the zoom estimate


def has_boundaries() -> bool:
    return geography.boundary_pack().available


@cache
def _boxes(level: int, directory: str) -> dict[str, Box]:
    data = geography.geojson(level) or {"features": []}
    key = f"adm{level}_pcode"
    boxes: dict[str, Box] = {}
    for feature in data["features"]:
        lons, lats = [], []
        for lon, lat in _points(feature["geometry"]["coordinates"]):
            lons.append(lon)
            lats.append(lat)
        if lons:
            boxes[feature["properties"][key]] = (min(lons), min(lats), max(lons), max(lats))
    return boxes


def _points(coordinates: list) -> Iterable[tuple[float, float]]:
    if coordinates and isinstance(coordinates[0], int | float):
        yield coordinates[0], coordinates[1]
        return
    for part in coordinates:
        yield from _points(part)


def boxes(level: int) -> dict[str, Box]:
    """Org-unit code → bounding box, for level 1 or 2 ({} without a pack)."""
    return _boxes(level, str(geography.boundary_pack().directory))


def _mercator(lat: float) -> float:
    return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def fit(west: float, south: float, east: float, north: float) -> tuple[dict[str, float], float]:
    """Centre and MapLibre zoom that show this lon/lat box in a map card."""
    width, height = VIEW_PX
    lon_span = max(east - west, 0.05)
    lat_span = max(_mercator(north) - _mercator(south), 0.05)
    zoom = min(
        math.log2(width * 360 / (TILE_PX * lon_span)),
        math.log2(height * 360 / (TILE_PX * lat_span)),
    )
    centre_lat = math.degrees(
        2 * math.atan(math.exp(math.radians((_mercator(north) + _mercator(south)) / 2)))
        - math.pi / 2
    )
    return {"lat": round(centre_lat, 4), "lon": round((west + east) / 2, 4)}, round(zoom - 0.1, 2)


def view(codes: Iterable[str], level: int) -> tuple[dict[str, float], float] | None:
    """Centre and zoom that fit these units' boundaries, or None when none has one."""
    known = [b for code in codes if (b := boxes(level).get(code))]
    if not known:
        return None
    return fit(
        min(b[0] for b in known),
        min(b[1] for b in known),
        max(b[2] for b in known),
        max(b[3] for b in known),
    )


# District outlines for maps drawn as plain SVG shapes (the RED/REC map): MapLibre cannot
# draw fill patterns, and its text needs glyph fonts from the internet.
# lons, lats (NaN between rings: a gap plotly does not join), label lon, label lat. Arrays,
# because plotly sends them as compact typed arrays without copying them value by value.
Outline = tuple[np.ndarray, np.ndarray, float, float]


def _rings(geometry: dict) -> list[list[list[float]]]:
    """Exterior rings of a Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def _ring_area(ring: list[list[float]]) -> float:
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False))) / 2


def label_point(ring: list[list[float]]) -> tuple[float, float]:
    """A point inside the ring for its label: the middle of the widest inside stretch of
    the horizontal line through the middle latitude (a centroid can fall outside)."""
    lats = [p[1] for p in ring]
    lat = (min(lats) + max(lats)) / 2
    crossings = sorted(
        a[0] + (lat - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
        for a, b in zip(ring, ring[1:], strict=False)
        if (a[1] <= lat) != (b[1] <= lat)
    )
    pairs = list(zip(crossings[::2], crossings[1::2], strict=False))
    if not pairs:
        return sum(p[0] for p in ring) / len(ring), lat
    west, east = max(pairs, key=lambda pair: pair[1] - pair[0])
    return (west + east) / 2, lat


@cache
def _outlines(level: int, directory: str) -> dict[str, Outline]:
    data = geography.geojson(level) or {"features": []}
    key = f"adm{level}_pcode"
    found: dict[str, Outline] = {}
    for feature in data["features"]:
        rings = _rings(feature["geometry"])
        if not rings:
            continue
        points = np.concatenate([np.vstack([np.asarray(r, dtype=float), [np.nan, np.nan]])
                                 for r in rings])  # fmt: skip
        lon, lat = label_point(max(rings, key=_ring_area))
        found[feature["properties"][key]] = (points[:, 0].copy(), points[:, 1].copy(), lon, lat)
    return found


def outlines(level: int) -> dict[str, Outline]:
    """Org-unit code -> (lons, lats with NaN between rings, label lon, label lat)."""
    return _outlines(level, str(geography.boundary_pack().directory))
