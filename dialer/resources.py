"""Where the files that ship beside the code are: the message and call-flow templates
(`templates/`) and the migrations (`alembic/`). In a checkout, and an editable install, they are
the repository's own; installed from a wheel they are its data files, under `share/dialer/`."""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Literal

__all__ = ["Resource", "resource_dir"]

Resource = Literal["templates", "alembic"]

# A file each folder has, so that a folder of the same name that is not ours (the alembic
# library in site-packages, say) is never taken for it.
_MARKER: dict[Resource, str] = {"templates": "flows/say.json.j2", "alembic": "env.py"}


@cache
def resource_dir(name: Resource) -> Path:
    checkout = Path(__file__).resolve().parent.parent / name
    if (checkout / _MARKER[name]).is_file():
        return checkout
    installed = _installed(name)
    if installed is not None:
        return installed
    raise FileNotFoundError(f"dialer's {name}/ is neither beside the code nor installed with it")


def _installed(name: Resource) -> Path | None:
    try:
        files = metadata.distribution("dialer").files or []
    except metadata.PackageNotFoundError:
        return None
    wanted = ("share", "dialer", name, *_MARKER[name].split("/"))
    for file in files:
        if file.parts[-len(wanted) :] == wanted:
            marker = Path(str(file.locate())).resolve()
            return marker.parents[len(wanted) - 4]
    return None
