"""Who is asking: the access scope every warehouse query is filtered by.

Like Superset's base filter, the scope is applied inside the query layer on every read, so
no page, callback or export can ask for rows outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "leadership", "focal_point", "governorate")


@dataclass(frozen=True)
class Scope:
    """A role and, for governorate users, the one governorate they may see."""

    role: str
    governorate: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if (self.role == "governorate") != bool(self.governorate):
            raise ValueError("a governorate scope needs exactly one governorate code")

    @classmethod
    def national(cls) -> Scope:
        """Everything: the CLI run by an operator, and the dashboard before access control."""
        return cls("admin")

    @property
    def restricted(self) -> bool:
        return self.governorate is not None

    def allows_org_unit(self, code: str) -> bool:
        return not self.restricted or code.startswith(self.governorate or "")
