"""The batch contract: IN.json of cases and texts -> OUT.json of anonymised texts.

IN:  {"cases": [{"id": str, "client": {"name": str, "preferred_name": str, "aliases": [str],
                  "date_of_birth": "YYYY-MM-DD", "contacts": [str]},
                 "people": [{"name": str, "relation": str}],
                 "first_session": "YYYY-MM-DD", "texts": [str]}]}
OUT: {"cases": [{"id": str, "texts": [str], "flagged": [str]}]}

Only `cases`, each case's `id` and `texts` are required. Anything malformed is reported
with its place in the file ("cases[2].people[0].name: expected text").
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from .anonymiser import CaseFacts, ListedPerson, anonymise_texts


class BadInput(ValueError):
    """IN.json does not follow the contract; the message names where."""


def _text(value: Any, where: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{where}: expected text, found {type(value).__name__}")
    return value


def _texts(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadInput(f"{where}: expected a list of texts")
    return [_text(item, f"{where}[{i}]", required=True) for i, item in enumerate(value)]


def _date(value: Any, where: str) -> date | None:
    text = _text(value, where)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{where}: expected a date as YYYY-MM-DD, found {text[:20]!r}") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInput(f"{where}: expected an object")
    return value


def parse_case(raw: Any, where: str) -> tuple[str, CaseFacts, list[str]]:
    case = _object(raw, where)
    if "id" not in case:
        raise BadInput(f"{where}.id: missing")
    case_id = case["id"]
    if isinstance(case_id, int) and not isinstance(case_id, bool):
        case_id = str(case_id)
    case_id = _text(case_id, f"{where}.id", required=True)
    if "texts" not in case:
        raise BadInput(f"{where}.texts: missing")
    client = _object(case.get("client"), f"{where}.client")
    people_raw = case.get("people") or []
    if not isinstance(people_raw, list):
        raise BadInput(f"{where}.people: expected a list")
    people = []
    for i, person in enumerate(people_raw):
        person = _object(person, f"{where}.people[{i}]")
        people.append(ListedPerson(_text(person.get("name"), f"{where}.people[{i}].name"),
                                   _text(person.get("relation"),
                                         f"{where}.people[{i}].relation")))
    facts = CaseFacts(
        client_name=_text(client.get("name"), f"{where}.client.name"),
        preferred_name=_text(client.get("preferred_name"), f"{where}.client.preferred_name"),
        aliases=tuple(_texts(client.get("aliases"), f"{where}.client.aliases")),
        date_of_birth=_date(client.get("date_of_birth"), f"{where}.client.date_of_birth"),
        contacts=tuple(_texts(client.get("contacts"), f"{where}.client.contacts")),
        people=tuple(p for p in people if p.name),
        first_session=_date(case.get("first_session"), f"{where}.first_session"),
    )
    return case_id, facts, _texts(case["texts"], f"{where}.texts")


def parse_input(raw: Any) -> list[tuple[str, CaseFacts, list[str]]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
        raise BadInput('the top level must be an object with a "cases" list')
    return [parse_case(case, f"cases[{i}]") for i, case in enumerate(raw["cases"])]


def read_input(path: Path) -> list[tuple[str, CaseFacts, list[str]]]:
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                       f"column {exc.colno})") from None
    return parse_input(raw)


def anonymise_cases(cases: list[tuple[str, CaseFacts, list[str]]]) -> dict[str, Any]:
    out = []
    for case_id, facts, texts in cases:
        anonymised, flagged = anonymise_texts(facts, texts)
        out.append({"id": case_id, "texts": anonymised, "flagged": flagged})
    return {"cases": out}


def write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target, then rename: an interruption leaves no partial file."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
