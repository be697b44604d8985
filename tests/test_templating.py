"""Template helpers for list rows (templating.py): they must escape what they fill in."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup

from journal.templating import EACH, fill, fill_in, strftime, url_for_each


def test_fill_in_escapes_the_value_into_a_message_translated_once():
    for message in (f"shared {EACH}", Markup(f"shared {EACH}")):  # noqa: S704 - a literal
        filled = fill_in(message, '<b>"x"</b>')
        assert isinstance(filled, Markup)
        assert str(filled) == "shared &lt;b&gt;&#34;x&#34;&lt;/b&gt;"


def test_row_urls_quote_the_id_and_dates_format(app):
    with app.test_request_context():
        case_url = url_for_each("cases.case", "case_id")
        assert fill(case_url, "a/b?c") == "/cases/a%2Fb%3Fc"
    assert strftime(date(2999, 1, 5), "%d %b %Y") == "05 Jan 2999"
