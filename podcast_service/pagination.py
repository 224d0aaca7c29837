"""Lists in pages of a fixed size: the cost of a page never grows with the catalogue behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from .errors import NotFound
from .extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(value: str | None) -> int:
    """?page=N: a whole number from 1; anything else is a page that does not exist."""
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise NotFound(f"there is no page {value!r}")
    return int(value)


def paginate(query: Select, number: int, size: int) -> Page:
    """One COUNT and one query for the page's rows; a page past the last is a 404 (but page 1 always exists)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    if number > 1 and (number - 1) * size >= total:
        raise NotFound(f"there is no page {number}: the list has {max(1, -(-total // size))}")
    items = list(db.session.scalars(query.limit(size).offset((number - 1) * size)).unique())
    return Page(items, number, size, total)
