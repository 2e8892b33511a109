"""DHIS2 ingestion: read what a ministry's DHIS2 exports, into clean polars tables.

| module | reads |
|---|---|
| `periods` | every DHIS2 period type -> canonical string, type, start and end dates |
| `datavalues` | aggregate dataValueSets in JSON, DXF2 XML, CSV and ADX, as raw records |
| `normalize` | any mix of those (and dx/pe/ou analytics) -> the canonical long table |
| `fast_values` | the common JSON data value set, judged column-wise with normalize's rules |
| `analytics` | analytics API JSON/CSV responses, typed |
| `metadata` | org units, hierarchy and groups, data elements, COCs resolved to options, data sets |
| `registrations` | complete data set registrations, with timeliness |
| `tracker` | tracker exports (new and legacy, JSON and CSV) as flat tables |
| `source`, `values`, `problems` | safe bytes/text/JSON/XML/CSV reading, scalar parsing, errors |
| `mapping` | `mapping.yaml`: the instance's data elements, options, data sets, districts |
| `folder` | a folder of exports sorted into metadata, data values and registrations |
| `facts` | normalized values and registrations, through the mapping, into indicator inputs |
| `facility` | the facility report (mapping `facility:`) -> facilities, facility months |
| `load` | `etl load --dhis2`: the whole load into the warehouse (source `dhis2`) |
| `synthetic` | the synthetic instance `etl generate --dhis2` writes beside the registry |
| `synthetic_facility`, `synthetic_climate` | its facility report and district-month climate |

Readers raise `problems.Dhis2Error` (one line, naming the file) for a file that cannot be
read at all; a malformed record becomes a `problems.Problem` and reading goes on.
"""
