"""The tiny hand-made instance (`tiny_instance`) with a facility environment report, written
as real export files, with one bad value of each kind at a known position.

Facilities: F1 (Rusafa, IQG08Q01) PHC, urban; F2 (Rusafa) PHC, rural (its rural group is
listed on the org unit, not on the group); F3 (Karkh, IQG08Q02) hospital, urban. The
report (data set FAC, monthly, assigned to F1-F3) maps nine columns; `health_workers` and
`backup_power` are TEXT elements (a mislabelled instance), `sharps_disposal` has the
instance's own option code OPEN (open_burning_unprotected in `facility.options`).

`facility/fac.json` holds `VALUES` in order (positions `$.dataValues[i]`); `EXPECTED`
gives the facility months they make and `REJECTED` the positions and reasons.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.etl.dhis2 import tiny_instance

V = tiny_instance.FIRST
ELEMENTS = {  # column -> (value type, code)
    "beds": ("INTEGER_ZERO_OR_POSITIVE", "FAC_BEDS"),
    "health_workers": ("TEXT", "FAC_STAFF"),
    "waste_hazardous_kg": ("NUMBER", "FAC_HAZ"),
    "bins": ("TEXT", "FAC_BINS"),
    "sharps_disposal": ("TEXT", "FAC_SHARPS"),
    "electricity": ("BOOLEAN", "FAC_ELEC"),
    "backup_power": ("TEXT", "FAC_BACKUP"),
    "grid_hours": ("NUMBER", "FAC_GRID"),
    "cases_heat_illness": ("INTEGER_ZERO_OR_POSITIVE", "FAC_HEAT"),
}
GROUPS = {"GrpHosp": ("FT_HOSP", ["F3"]), "GrpPhc": ("FT_PHC", ["F1", "F2"]),
          "GrpUrb": ("LOC_URB", ["F1", "F3"]), "GrpRur": ("LOC_RUR", [])}  # fmt: skip


def _v(column: str, unit: str, period: str, value: str, **extra: object) -> dict:
    return {"dataElement": V.uid("De" + ELEMENTS[column][1][4:]), "period": period,
            "orgUnit": V.uid(unit), "value": value, **extra}  # fmt: skip


VALUES = [
    _v("waste_hazardous_kg", "F1", "202401", "12.5"),  # 0
    _v("bins", "F1", "202401", "three_bins"),  # 1
    _v("sharps_disposal", "F1", "202401", "autoclave"),  # 2
    _v("electricity", "F1", "202401", "true"),  # 3
    _v("grid_hours", "F1", "202401", "300"),  # 4
    _v("cases_heat_illness", "F1", "202401", "4"),  # 5: replaced by 9
    _v("backup_power", "F1", "202401", "yes"),  # 6
    _v("health_workers", "F1", "202401", "25"),  # 7
    _v("beds", "F3", "202401", "120"),  # 8
    _v("cases_heat_illness", "F1", "202401", "6"),  # 9
    _v("waste_hazardous_kg", "F3", "202401", "80"),  # 10
    _v("bins", "F3", "202401", "no_bins"),  # 11
    _v("sharps_disposal", "F3", "202401", "OPEN"),  # 12: translated
    _v("electricity", "F3", "202401", "false"),  # 13
    _v("grid_hours", "F3", "202401", "0"),  # 14
    _v("waste_hazardous_kg", "F2", "202401", ""),  # 15: blank
    _v("bins", "F2", "202401", "bins_incomplete"),  # 16
    _v("sharps_disposal", "F2", "202401", "burned"),  # 17: option_unknown
    _v("waste_hazardous_kg", "F2", "202402", "-3"),  # 18: value_negative
    _v("health_workers", "F2", "202402", "many"),  # 19: value_not_numeric (TEXT element)
    _v("waste_hazardous_kg", "F2", "202402", "abc"),  # 20: normalize rejects (NUMBER)
    _v("beds", "F3", "202402", "12.5"),  # 21: value_not_integer
    _v("grid_hours", "F1", "202402", "800"),  # 22: value_out_of_range (696 h in Feb 2024)
    _v("electricity", "F1", "202402", "maybe"),  # 23: normalize rejects (BOOLEAN)
    _v("backup_power", "F1", "202402", "perhaps"),  # 24: value_not_boolean (TEXT element)
    _v("cases_heat_illness", "Rusafa", "202402", "7"),  # 25: org_unit_not_facility
    _v("cases_heat_illness", "Baghdad", "202402", "9"),  # 26: org_unit_not_facility
    _v("grid_hours", "F1", "2024Q1", "100"),  # 27: period_not_monthly
    _v("grid_hours", "F3", "202402", "10", deleted=True),  # 28: deleted
    _v("grid_hours", "F3", "202402", "650.5"),  # 29
    _v("backup_power", "F3", "202402", "0"),  # 30
]
REJECTED = {  # position -> (rule, reason); the normalizer's own rejects are marked
    17: ("option_unknown", "sharps_disposal 'burned' is not an option (autoclave, "
         "incinerator_two_chamber, incinerator_single_chamber, open_burning_protected, "
         "open_burning_unprotected, dump_unprotected, dump_covered_pit, dump_open_pit, "
         "dump_protected, offsite_covered, offsite_protected, offsite_unprotected, other, "
         "never)"),
    18: ("value_negative", "waste_hazardous_kg -3 is negative"),
    19: ("value_not_numeric", "health_workers 'many' is not a number"),
    20: ("value_not_numeric", "'abc' for a NUMBER data element"),  # normalize
    21: ("value_not_integer", "beds 12.5 is not a whole number"),
    22: ("value_out_of_range", "grid_hours 800 is more than the month's 696 hours"),
    23: ("value_not_boolean", "'maybe' for a BOOLEAN data element"),  # normalize
    24: ("value_not_boolean", "backup_power 'perhaps' is not true or false"),
    25: ("org_unit_not_facility", f"org unit {V.uid('Rusafa')} is not a facility of the "
         "mapping (not in the facility data set or a facility group, or not below a mapped "
         "district)"),
    26: ("org_unit_not_facility", f"org unit {V.uid('Baghdad')} is not a facility of the "
         "mapping (not in the facility data set or a facility group, or not below a mapped "
         "district)"),
    27: ("period_not_monthly", "grid_hours for the Quarterly period 2024Q1: the report is "
         "monthly"),
}  # fmt: skip
NORMALIZE_REJECTS = {20, 23}
EXPECTED = {  # (facility, period) -> the non-empty columns
    ("F1", "202401"): {"waste_hazardous_kg": 12.5, "bins": "three_bins",
                       "sharps_disposal": "autoclave", "electricity": True, "grid_hours": 300.0,
                       "cases_heat_illness": 6.0, "backup_power": True, "health_workers": 25.0},
    ("F3", "202401"): {"beds": 120, "waste_hazardous_kg": 80.0, "bins": "no_bins",
                       "sharps_disposal": "open_burning_unprotected", "electricity": False,
                       "grid_hours": 0.0},
    ("F2", "202401"): {"bins": "bins_incomplete"},
    ("F3", "202402"): {"grid_hours": 650.5, "backup_power": False},
}  # fmt: skip
CLIMATE = """district,period,tmean,tmax,tmax_peak,heatwave_days,dust_days,population
IQG08Q01,202401,11.0,16.5,19.0,0,1,1500000
IQG08Q02,202401,11.4,16.9,19.8,0,2,900000
IQG08Q01,202402,13.2,19.0,23.1,0,0,1500000
IQG08Q02,202402,13.0,18.8,22.0,0,3,900000
IQG08Q03,202402,13.0,18.8,22.0,0,3,900000
"""


def metadata() -> dict:
    meta = tiny_instance.metadata(V)
    for unit in meta["organisationUnits"]:
        if unit["name"] == "F2":
            unit["organisationUnitGroups"] = [{"id": V.uid("GrpRur")}]
    meta["organisationUnitGroups"] = [
        {"id": V.uid(name), "code": code, "name": code,
         "organisationUnits": [{"id": V.uid(u)} for u in units]}
        for name, (code, units) in GROUPS.items()
    ]  # fmt: skip
    meta["dataElements"] += [
        {"id": V.uid("De" + code[4:]), "code": code, "name": column, "valueType": value_type}
        for column, (value_type, code) in ELEMENTS.items()
    ]  # fmt: skip
    meta["dataSets"].append({
        "id": V.uid("DsFac"), "code": "FAC", "name": "Facility report", "periodType": "Monthly",
        "organisationUnits": [{"id": V.uid(f)} for f in ("F1", "F2", "F3")],
        "dataSetElements": [{"dataElement": {"id": V.uid("De" + c[4:])}}
                            for _, c in ELEMENTS.values()],
    })  # fmt: skip
    return meta


def mapping() -> str:
    elements = "\n".join(f"    {column}: {code}" for column, (_, code) in ELEMENTS.items())
    return tiny_instance.mapping(V) + (
        "facility:\n  data_set: FAC\n"
        f"  data_elements:\n{elements}\n"
        "  groups:\n    hospital: [FT_HOSP]\n    phc: [FT_PHC]\n"
        "    urban: [LOC_URB]\n    rural: [LOC_RUR]\n"
        "  options:\n    sharps_disposal: {OPEN: open_burning_unprotected}\n"
        "  climate: [climate/*.csv]\n"
    )


def write(folder: Path) -> Path:
    """The tiny instance plus the facility report, its climate file and the mapping."""
    tiny_instance.write(folder, V)
    (folder / "metadata.json").write_text(json.dumps(metadata()))
    (folder / "facility").mkdir()
    (folder / "facility" / "fac.json").write_text(json.dumps({"dataValues": VALUES}))
    (folder / "climate").mkdir()
    (folder / "climate" / "districts.csv").write_text(CLIMATE)
    (folder / "mapping.yaml").write_text(mapping())
    return folder
