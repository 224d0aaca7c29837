"""Lists in pages of a fixed size: the cost of a page never grows with the catalogue behind it.

A page is read with one query of size + 1 rows (the extra row says whether
another page follows), so there is no COUNT over the whole list: with an
index matching the order, page 1 of 10,000 episodes costs what page 1 of 10
does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select

from .errors import NotFound
from .extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


# Far past the last page of any catalogue, and an offset every database takes.
MAX_PAGE = 1_000_000


def page_number(value: str | None) -> int:
    """?page=N: a whole number from 1 to MAX_PAGE; anything else is a page that does not exist (404)."""
    if value is None or value == "":
        return 1
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_PAGE)) or not 1 <= int(value) <= MAX_PAGE:
        raise NotFound(_("there is no page %(number)s", number=repr(value[:20])))
    return int(value)


def paginate(query: Select, number: int, size: int) -> Page:
    """The page's rows; a page past the last is a 404 (page 1 always exists, empty or not)."""
    rows = _read(query.limit(size + 1).offset((number - 1) * size))
    if number > 1 and not rows:
        raise NotFound(_("there is no page %(number)s", number=number))
    return Page(rows[:size], number, size, len(rows) > size)


def _read(query: Select) -> list[Any]:
    """Whole objects for a select of a model, plain rows for a select of columns."""
    result = db.session.execute(query)
    [first, *more] = query.column_descriptions
    if not more and first["entity"] is not None and first["expr"] is first["entity"]:
        return list(result.scalars().unique())
    return list(result)
