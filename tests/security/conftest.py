"""Security tests run the real app on warehouses built with the real account functions;
they reuse the dashboard tests' warehouses and signed-in Dash client."""

from __future__ import annotations

from tests.dashboard.conftest import make_client, sample_url, tiny_url  # noqa: F401
