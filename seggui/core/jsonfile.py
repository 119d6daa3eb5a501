"""Read a JSON file the user gave us, or say plainly which file and what is wrong with it.

Class tables, model cards and workspaces are all JSON files a person may
have edited by hand, truncated by a full disk or pointed at by mistake. Each
of those turns into one BadInputError naming the file and what it should
have been, never a traceback from deep in `json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seggui.core.errors import BadInputError


def read_json(path: str | Path, what: str, missing: BadInputError | None = None) -> Any:
    """The parsed content of `path`; `what` names the kind of file in messages ("model card").

    `missing` replaces the default "<what> not found" error, for callers
    that know better what an absent file means (a folder that is not a
    workspace).
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise (missing or BadInputError(path, f"{what} not found")) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"cannot read {what} JSON ({exc})") from None
