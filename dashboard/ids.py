"""Component ids, unique across all pages (Dash Pages share one DOM and one callback map).

Prefixes name the page: `ov-` overview, `imm-` immunization, `eq-` equity, `data-` data,
`audit-` audit.
"""

from __future__ import annotations

# App shell
NAVBAR = "navbar"
NAV_USER = "nav-user"
NAV_LOGOUT = "logout-button"

# Overview
OV_ASOF = "ov-asof"
OV_CARDS = "ov-cards"
OV_TREND = "ov-trend"
OV_MAP = "ov-map"
OV_MAP_INDICATOR = "ov-map-indicator"
OV_MAP_TITLE = "ov-map-title"
OV_MAP_NOTE = "ov-map-note"
OV_PLACE = "ov-place"
OV_BACK = "ov-back"
OV_COHORT = "ov-cohort"
OV_EXPORT = "ov-export"
OV_DOWNLOAD = "ov-download"

# Immunization
IMM_INDICATOR = "imm-indicator"
IMM_PERIOD = "imm-period"
IMM_ORG_UNIT = "imm-org-unit"
IMM_SEX = "imm-sex"
IMM_DISABILITY = "imm-disability"
IMM_TITLE = "imm-title"
IMM_MAP = "imm-map"
IMM_MAP_NOTE = "imm-map-note"
IMM_BAR = "imm-bar"
IMM_TABLE = "imm-table"
IMM_EXPORT = "imm-export"
IMM_DOWNLOAD = "imm-download"

# Equity
EQ_INDICATOR = "eq-indicator"
EQ_PERIOD = "eq-period"
EQ_ORG_UNIT = "eq-org-unit"
EQ_DIMENSION = "eq-dimension"
EQ_TITLE = "eq-title"
EQ_CAPTION = "eq-caption"
EQ_SUBGROUPS = "eq-subgroups"
EQ_SUBGROUPS_TITLE = "eq-subgroups-title"
EQ_MEASURES = "eq-measures"
EQ_TREND = "eq-trend"
EQ_TREND_CAPTION = "eq-trend-caption"
EQ_TREND_TABLE = "eq-trend-table"
EQ_GAPS = "eq-gaps"
EQ_GAPS_NOTE = "eq-gaps-note"
EQ_CROSSTAB = "eq-crosstab"
EQ_EXPORT = "eq-export"
EQ_DOWNLOAD = "eq-download"
EQ_HEAT_EXPORT = "eq-heat-export"
EQ_HEAT_DOWNLOAD = "eq-heat-download"
EQ_MEASURES_EXPORT = "eq-measures-export"
EQ_MEASURES_DOWNLOAD = "eq-measures-download"
EQ_ZD_BASELINE = "eq-zd-baseline"
EQ_ZD_TITLE = "eq-zd-title"
EQ_ZD_CARDS = "eq-zd-cards"
EQ_ZD_SUBGROUPS = "eq-zd-subgroups"
EQ_ZD_DISTRICTS = "eq-zd-districts"
EQ_ZD_EXPORT = "eq-zd-export"
EQ_ZD_DOWNLOAD = "eq-zd-download"

# Data
DATA_RUNS_TABLE = "data-runs-table"
DATA_RUNS_EXPORT = "data-runs-export"
DATA_RUNS_DOWNLOAD = "data-runs-download"
DATA_RUN = "data-run"
DATA_RULES_BAR = "data-rules-bar"
DATA_RULES_TABLE = "data-rules-table"
DATA_RULES_EXPORT = "data-rules-export"
DATA_RULES_DOWNLOAD = "data-rules-download"
DATA_RULE = "data-rule"
DATA_REJECTS_TABLE = "data-rejects-table"
DATA_REJECTS_EXPORT = "data-rejects-export"
DATA_REJECTS_DOWNLOAD = "data-rejects-download"

# Audit
AUDIT_EVENT = "audit-event"
AUDIT_TABLE = "audit-table"
AUDIT_COUNT = "audit-count"
AUDIT_EXPORT = "audit-export"
AUDIT_DOWNLOAD = "audit-download"
AUDIT_USERS = "audit-users"


def all_ids() -> list[str]:
    """Every id constant (for the uniqueness test)."""
    return [value for name, value in globals().items() if name.isupper() and isinstance(value, str)]
