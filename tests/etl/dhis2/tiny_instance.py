"""A tiny hand-made DHIS2 instance, written as real export files, for hand-checked numbers.

Baghdad (IQG08) with two districts: IQG08Q01 has facilities F1 and F2, IQG08Q02 has F3.
Every month of 2024 each facility reports, for children under 1 year (option "<1 year"):

| facility | Penta1 | Penta3 | MCV1 |
|---|---|---|---|
| F1 | 50 | 45 | 40 |
| F2 | 40 | 30 | 35 |
| F3 | 60 | 55 (70 in February) | 55 (550 in July: a typo) |

and 10 doses of each antigen for children of 1 year and more, which coverage leaves out.
Targets (surviving infants): IQG08Q01 1,200 for 2024 (one yearly value for the district);
IQG08Q02 880 for 2024Q1 and 920 for 2024Q3 at facility F3 (averaged: 900).
Monthly report data set, 15 timely days: F1 and F3 registered every month within 5 days;
F2 never registered November and December, and registered April and May 20 days late.
January to April are a JSON data value set, May to August CSV, September to December XML.

`Variant` gives the same instance under another instance's uids and codes, with doses by
sex (F gets the odd half), org units named rather than coded, and its own mapping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

FACILITY_DOSES = {
    "F1": {"PENTA1": 50, "PENTA3": 45, "MCV1": 40},
    "F2": {"PENTA1": 40, "PENTA3": 30, "MCV1": 35},
    "F3": {"PENTA1": 60, "PENTA3": 55, "MCV1": 55},
}
SPECIAL = {("F3", "PENTA3", 2): 70, ("F3", "MCV1", 7): 550}
OLDER = 10  # doses per antigen and month for children of 1 year and more
LATE = {("F2", 4), ("F2", 5)}
MISSING = {("F2", 11), ("F2", 12)}


@dataclass(frozen=True)
class Variant:
    """Identifiers of one instance (the default is the "first" instance)."""

    prefix: str = "A"
    by_sex: bool = False
    codes: bool = True  # district org units carry the Mizan p-code as their code

    def uid(self, name: str) -> str:
        """An 11-character uid for `name` in this instance."""
        return (self.prefix + name + "x" * 11)[:11]


FIRST = Variant()
OTHER = Variant(prefix="Q", by_sex=True, codes=False)

UNITS = {  # name -> (parent, code, level)
    "Iraq": (None, "IQ", 1),
    "Baghdad": ("Iraq", "IQG08", 2),
    "Rusafa": ("Baghdad", "IQG08Q01", 3),
    "Karkh": ("Baghdad", "IQG08Q02", 3),
    "F1": ("Rusafa", "F1", 4),
    "F2": ("Rusafa", "F2", 4),
    "F3": ("Karkh", "F3", 4),
}


def _path(v: Variant, name: str) -> str:
    parent = UNITS[name][0]
    return (_path(v, parent) if parent else "") + "/" + v.uid(name)


def metadata(v: Variant) -> dict:
    units = [
        {"id": v.uid(name), "name": name, "level": level, "path": _path(v, name),
         "code": (code if v.codes or level != 3 else f"{v.prefix}-{name}"),
         **({"parent": {"id": v.uid(parent)}} if parent else {})}
        for name, (parent, code, level) in UNITS.items()
    ]  # fmt: skip
    options = [("U1", "<1 year"), ("O1", "1+ year")]
    if v.by_sex:
        options += [("SF", "Female"), ("SM", "Male")]
    categories = [{"id": v.uid("CatAge"), "name": "Age", "categoryOptions": [
        {"id": v.uid("Opt" + o)} for o in ("U1", "O1")]}]  # fmt: skip
    if v.by_sex:
        categories.append({"id": v.uid("CatSex"), "name": "Sex", "categoryOptions": [
            {"id": v.uid("OptSF")}, {"id": v.uid("OptSM")}]})  # fmt: skip
    return {
        "organisationUnits": units,
        "categoryOptions": [{"id": v.uid("Opt" + o), "name": n, "code": f"{v.prefix}_{o}"}
                            for o, n in options],
        "categories": categories,
        "categoryCombos": [{"id": v.uid("Combo"), "name": "Age (and sex)",
                            "categories": [{"id": c["id"]} for c in categories]}],
        "categoryOptionCombos": [
            {"id": v.uid(f"Coc{age}{sex}"), "name": f"{age} {sex}",
             "categoryCombo": {"id": v.uid("Combo")},
             "categoryOptions": [{"id": v.uid("Opt" + age)}]
             + ([{"id": v.uid("Opt" + sex)}] if sex else [])}
            for age in ("U1", "O1") for sex in (("SF", "SM") if v.by_sex else ("",))
        ],
        "dataElements": [
            {"id": v.uid("De" + dose), "name": f"{dose} doses", "code": f"{v.prefix}_{dose}",
             "valueType": "INTEGER_ZERO_OR_POSITIVE", "categoryCombo": {"id": v.uid("Combo")}}
            for dose in ("PENTA1", "PENTA3", "MCV1")
        ] + [{"id": v.uid("DePopSI"), "name": "Surviving infants", "code": f"{v.prefix}_POP",
              "valueType": "NUMBER"}],
        "dataSets": [{"id": v.uid("DsEpi"), "name": "EPI", "code": f"{v.prefix}_EPI",
                      "periodType": "Monthly", "timelyDays": 15,
                      "organisationUnits": [{"id": v.uid(f)} for f in FACILITY_DOSES]}],
    }  # fmt: skip


def values(v: Variant, month: int) -> list[dict]:
    """The month's data values (dicts with dataElement, orgUnit, categoryOptionCombo, value)."""
    rows = []
    for facility, doses in FACILITY_DOSES.items():
        for dose, count in doses.items():
            count = SPECIAL.get((facility, dose, month), count)
            for age, n in (("U1", count), ("O1", OLDER)):
                parts = [("SF", (n + 1) // 2), ("SM", n // 2)] if v.by_sex else [("", n)]
                rows += [{"dataElement": v.uid("De" + dose), "orgUnit": v.uid(facility),
                          "categoryOptionCombo": v.uid(f"Coc{age}{sex}"), "value": str(part)}
                         for sex, part in parts]  # fmt: skip
    return rows


def population(v: Variant) -> dict:
    return {"dataValues": [
        {"dataElement": v.uid("DePopSI"), "period": "2024", "orgUnit": v.uid("Rusafa"),
         "value": "1200"},
        {"dataElement": v.uid("DePopSI"), "period": "2024Q1", "orgUnit": v.uid("F3"),
         "value": "880"},
        {"dataElement": v.uid("DePopSI"), "period": "2024Q3", "orgUnit": v.uid("F3"),
         "value": "920"},
    ]}  # fmt: skip


def registrations(v: Variant) -> dict:
    records = []
    for month in range(1, 13):
        end = date(2024 + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        for facility in FACILITY_DOSES:
            if (facility, month) in MISSING:
                continue
            delay = 20 if (facility, month) in LATE else 5
            records.append({"dataSet": v.uid("DsEpi"), "period": f"2024{month:02d}",
                            "organisationUnit": v.uid(facility),
                            "date": (end + timedelta(days=delay)).isoformat(),
                            "completed": True})  # fmt: skip
    return {"completeDataSetRegistrations": records}


def _csv(v: Variant, months: range) -> str:
    lines = ["dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,"
             "storedby,lastupdated,comment,followup"]  # fmt: skip
    for month in months:
        lines += [f"{r['dataElement']},2024{month:02d},{r['orgUnit']},"
                  f"{r['categoryOptionCombo']},,{r['value']},hand,2024-12-31,,false"
                  for r in values(v, month)]  # fmt: skip
    return "\n".join(lines) + "\n"


def _xml(v: Variant, months: range) -> str:
    body = [
        f'  <dataValue dataElement="{r["dataElement"]}" period="2024{month:02d}" '
        f'orgUnit="{r["orgUnit"]}" categoryOptionCombo="{r["categoryOptionCombo"]}" '
        f'value="{r["value"]}"/>'
        for month in months
        for r in values(v, month)
    ]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0">\n'
            + "\n".join(body) + "\n</dataValueSet>\n")  # fmt: skip


def mapping(v: Variant) -> str:
    if v is FIRST or v.codes:
        units = "org_units:\n  match: code\n  level: 3\n"
    else:
        units = "org_units:\n  match: table\n  table:\n    Rusafa: IQG08Q01\n    Karkh: IQG08Q02\n"
    sex = f"sex:\n  F: [{v.prefix}_SF]\n  M: [{v.prefix}_SM]\n" if v.by_sex else ""
    return (
        f"version: 1\nname: tiny {v.prefix}\n"
        f"doses:\n  PENTA1: {v.prefix}_PENTA1\n  PENTA3: {v.prefix}_PENTA3\n"
        f"  MCV1: {v.uid('DeMCV1')}\n"
        f"age:\n  under_1: [{v.prefix}_U1]\n  over_1: [{v.uid('OptO1')}]\n{sex}"
        f"population:\n  surviving_infants: {v.prefix}_POP\n"
        f"data_sets: [{v.prefix}_EPI]\n{units}"
    )


def write(folder: Path, v: Variant = FIRST, with_mapping: bool = True) -> Path:
    """Write the instance's export files (and its mapping) into `folder`."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    (folder / "metadata.json").write_text(json.dumps(metadata(v)))
    early = {"dataSet": v.uid("DsEpi"), "dataValues": [
        {**r, "period": f"2024{m:02d}"} for m in range(1, 5) for r in values(v, m)]}  # fmt: skip
    (data / "jan_apr.json").write_text(json.dumps(early))
    (data / "may_aug.csv").write_text(_csv(v, range(5, 9)))
    (data / "sep_dec.xml").write_text(_xml(v, range(9, 13)))
    (folder / "population.json").write_text(json.dumps(population(v)))
    (folder / "registrations.json").write_text(json.dumps(registrations(v)))
    if with_mapping:
        (folder / "mapping.yaml").write_text(mapping(v))
    return folder
