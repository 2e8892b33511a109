"""Every interface string goes through `t`, and the English catalogue lists them all."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from dashboard import display, i18n, selection
from indicators import catalogue

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = [ROOT / "app.py", *sorted((ROOT / "dashboard").rglob("*.py"))]


def translated_literals() -> set[str]:
    """The string literals passed to `t(...)` (and both forms of `tn(...)`) in the app."""
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            forms = {"t": 1, "tn": 2}.get(node.func.id, 0)
            for arg in node.args[:forms]:
                if isinstance(arg, ast.Constant):
                    found.add(arg.value)
    return found


def test_english_catalogue_lists_every_message():
    english = i18n.catalogue("en")
    literals = translated_literals()
    assert len(literals) > 50
    missing = sorted(literals - english.keys())
    assert missing == [], f"add these to dashboard/locales/en.json: {missing}"


def dynamic_messages() -> set[str]:
    """Messages passed to `t` through a variable: indicator names, flags, card titles."""
    return (
        {indicator.name_en for indicator in catalogue.indicators()}
        | set(display.FLAG_LABELS.values())
        | {title for _, title in selection.PERCENT_CARDS}
        | set(selection.TREND_NAMES.values())
        | set(selection.PAGE_NAMES)
        | set(selection.RUN_STATUSES)
    )


def test_english_catalogue_has_the_dynamic_messages():
    missing = sorted(dynamic_messages() - i18n.catalogue("en").keys())
    assert missing == [], f"add these to dashboard/locales/en.json: {missing}"


def test_english_catalogue_is_identity_and_has_no_stale_keys():
    english = i18n.catalogue("en")
    assert all(key == value for key, value in english.items())
    stale = sorted(english.keys() - translated_literals() - dynamic_messages())
    assert stale == [], f"remove unused messages from dashboard/locales/en.json: {stale}"


def test_translation_falls_back_to_english(monkeypatch, tmp_path):
    (tmp_path / "ar.json").write_text(json.dumps({"Overview": "نظرة عامة"}), encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    monkeypatch.setenv("MIZAN_LANG", "ar")
    i18n.catalogue.cache_clear()
    try:
        assert i18n.t("Overview") == "نظرة عامة"
        assert i18n.t("Equity") == "Equity"
        assert i18n.is_rtl()
    finally:
        i18n.catalogue.cache_clear()


@pytest.mark.parametrize("language", ["en"])
def test_catalogues_are_valid_json_objects_of_strings(language):
    data = i18n.catalogue(language)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())


def test_plural_forms_follow_the_count():
    one, many = "{n} facility", "{n} facilities"
    assert [i18n.tn(one, many, n) for n in (1, 1.0, 0, 2, None)] == [one, one, many, many, many]
