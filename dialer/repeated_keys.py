"""JSON objects that give a key twice: JSON readers keep the last silently, so a script whose
question lists key "1" twice would lose a choice unseen. The routes that take scripts refuse
them, naming where."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from dialer.errors import FieldError

__all__ = ["refuse_repeated_keys", "repeated_key"]


class _Object(dict[str, Any]):
    # Where inside this object a key is given twice (the path, then the key), if anywhere.
    repeated: tuple[list[str], str] | None = None


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    made = _Object()
    for key, value in pairs:
        if made.repeated is None:
            if key in made:
                made.repeated = ([], key)
            else:
                for inner, at in _children(value):
                    if inner.repeated is not None:
                        path, twice = inner.repeated
                        made.repeated = ([key, *at, *path], twice)
                        break
        made[key] = value
    return made


def _children(value: Any) -> list[tuple[_Object, list[str]]]:
    if isinstance(value, _Object):
        return [(value, [])]
    if isinstance(value, list):
        return [(v, [str(i)]) for i, v in enumerate(value) if isinstance(v, _Object)]
    return []


def repeated_key(body: bytes) -> tuple[str, str] | None:
    """(where, key) of the first key given twice in one object of `body`; None if none is, or
    if `body` is not JSON (its parser says so itself)."""
    try:
        parsed = json.loads(body, object_pairs_hook=_pairs)
    except ValueError:
        return None
    for found, at in _children(parsed):
        if found.repeated is not None:
            path, key = found.repeated
            return ".".join([*at, *path]), key
    return None


async def refuse_repeated_keys(request: Request) -> None:
    """A 422 for a JSON body that gives a key twice in one object, naming where."""
    body = await request.body()
    if b'"script"' not in body:
        return  # only a script has objects whose keys are choices
    found = repeated_key(body)
    if found is not None:
        where, key = found
        raise FieldError(where, f"{key!r} is given twice: a JSON object names each key once")
