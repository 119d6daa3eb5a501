"""Hand-edited JSON files (class tables, cards, workspaces) fail with the file and the problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.jsonfile import read_json
from seggui.core.workspace import WORKSPACE_FILE, Workspace
from seggui.engine.card import ModelCard


def test_each_kind_of_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "cut.json"
    bad.write_text('{"classes": [', encoding="utf-8")  # cut off by a full disk
    with pytest.raises(BadInputError, match="cannot read class table JSON") as err:
        ClassTable.from_json(bad)
    assert err.value.path == bad
    with pytest.raises(BadInputError, match="cannot read model card JSON"):
        ModelCard.load(bad)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / WORKSPACE_FILE).write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(BadInputError, match="cannot read workspace JSON"):
        Workspace.open(tmp_path / "ws")
    with pytest.raises(BadInputError, match=r"not a workspace \(no seggui.json\)"):
        Workspace.open(tmp_path)
    with pytest.raises(BadInputError, match="class table not found"):
        ClassTable.from_json(tmp_path / "absent.json")
    assert read_json(_write(tmp_path / "ok.json", '{"a": [1, 2]}'), "test file") == {"a": [1, 2]}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
