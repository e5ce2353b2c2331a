"""The dispatcher's pages (console, cameras, response times, the shared navigation) speak English and Hindi;
any message of theirs left untranslated in Hindi fails here."""

import re
from pathlib import Path

import pytest
from django.utils.translation.trans_real import DjangoTranslation

from dashboard.tests.test_citizen_i18n import UNIVERSAL, script_messages, template_messages
from dashboard.views import DASHBOARD_LANGUAGES

DASHBOARD = Path(__file__).resolve().parents[1]
TEMPLATES = [DASHBOARD / "templates" / "dashboard" / name
             for name in ("dashboard.html", "cameras.html", "reports.html", "_topnav.html")]
# Every script of the dispatcher's pages that says something to the dispatcher (the citizen page has its own test).
SCRIPTS = sorted(path for path in (DASHBOARD / "static" / "dashboard").glob("*.js")
                 if path.name not in ("citizen.js", "sw.js") and "gettext(" in path.read_text())
LANGUAGES = [code for code in DASHBOARD_LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def plural_messages(script: Path) -> set[tuple[str, str]]:
    return set(re.findall(r'ngettext\(\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"', script.read_text()))


def test_the_extraction_finds_each_pages_messages():
    # Without these, the tests below could pass by finding nothing.
    assert {"Cameras", "Response times"} <= template_messages(DASHBOARD / "templates/dashboard/_topnav.html")
    assert "Last heartbeat" in template_messages(TEMPLATES[1]) and "By kind" in template_messages(TEMPLATES[2])
    assert any(p.name == "cameras.js" for p in SCRIPTS) and any(p.name == "reports.js" for p in SCRIPTS)
    assert "No cameras registered." in script_messages(DASHBOARD / "static/dashboard/cameras.js")
    assert ("%(count)s alert raised from %(from)s to %(to)s.", "%(count)s alerts raised from %(from)s to %(to)s.") in \
        plural_messages(DASHBOARD / "static/dashboard/reports.js")


def assert_translated(catalog: DjangoTranslation, messages: set[str], plurals: set[tuple[str, str]], where: str):
    """Every message (and both forms of every plural) translated, with the placeholders it had."""
    missing = [m for m in sorted(messages) if catalog.gettext(m) == m]
    missing += [one for one, many in sorted(plurals)
                if catalog.ngettext(one, many, 1) == one or catalog.ngettext(one, many, 2) == many]
    assert not missing, f"untranslated in {where}: {missing}"
    for message in messages | {form for pair in plurals for form in pair}:
        assert set(PLACEHOLDER.findall(catalog.gettext(message))) == set(PLACEHOLDER.findall(message)), message


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_every_message_of_the_pages_is_translated(language, template):
    assert_translated(DjangoTranslation(language, domain="django"), template_messages(template) - UNIVERSAL, set(),
                      f"{language} {template.name}")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_message_of_the_scripts_is_translated(language, script):
    assert_translated(DjangoTranslation(language, domain="djangojs"), script_messages(script) - UNIVERSAL,
                      plural_messages(script), f"{language} {script.name}")
