"""``column IN ids`` for many ids at once: the ids travel as one parameter (a PostgreSQL
array, a JSON list that SQLite's ``json_each`` reads), not as a placeholder each — tens of
thousands of placeholders make a statement slow to build, and PostgreSQL's driver slow to
parse it. The due-nudge tick and calm read the people of a whole time zone this way."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import any_, bindparam, false, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement


def among(
    dialect: str, column: Any, ids: Iterable[int] | Iterable[str], *, name: str = "ids"
) -> ColumnElement[bool]:
    """``column IN ids`` (numbers or texts) on ``dialect`` ("postgresql" or "sqlite");
    ``name``: the parameter's name (distinct for each use in one statement)."""
    chosen = sorted(set(ids))  # type: ignore[type-var]
    if not chosen:
        return false()
    if dialect == "postgresql":
        return column == any_(bindparam(name, chosen, type_=postgresql.ARRAY(column.type)))
    each: Any = select(literal_column("value")).select_from(
        func.json_each(bindparam(name, json.dumps(chosen)))
    )
    return column.in_(each.scalar_subquery())
