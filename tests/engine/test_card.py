"""Model cards: round trip, validation, discovery, `seggui models`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seggui.cli import main
from seggui.core.errors import BadInputError
from seggui.engine.card import InputSpec, ModelCard, find_models, resolve_model


def _card_json(**over) -> dict:  # noqa: ANN003
    data = {
        "format": "seggui-model/1", "name": "demo", "version": 2, "description": "d",
        "architecture": "Unet", "encoder": "resnet18", "arch_params": {},
        "classes": "camvid-11", "num_classes": 12,
        "input": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "max_pixel_value": 255.0,
                  "resize": "max_side", "size": 512, "stride": 32, "tile_size": 1024, "tile_overlap": 128},
        "weights": "weights.safetensors", "onnx": None,
        "provenance": {"by": "test"}, "parent": "demo@1", "training": {"epochs": 3},
        "metrics": {"val_miou": 0.5}, "future_key": {"kept": True},
    }
    data.update(over)
    return data


def _write(folder: Path, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_round_trip_keeps_every_key(tmp_path: Path) -> None:
    folder = _write(tmp_path / "demo", _card_json())
    card = ModelCard.load(folder)
    assert (card.name, card.version, card.ref) == ("demo", 2, "demo@2")
    assert card.input.resize == "max_side" and card.input.size == 512 and card.input.pad == "reflect"
    assert card.classes.name == "camvid-11" and card.classes.size == 12
    assert card.weights_path == folder.resolve() / "weights.safetensors"
    assert card.onnx_path is None
    card.save(tmp_path / "copy")
    again = json.loads((tmp_path / "copy" / "model.json").read_text())
    original = _card_json()
    original["input"]["pad"] = "reflect"  # the default is written out explicitly
    assert again == original
    assert not list((tmp_path / "copy").glob("*.tmp"))  # atomic: no temp file left


def test_loads_from_model_json_and_inline_table(tmp_path: Path) -> None:
    table = {"name": "two", "classes": [{"id": 0, "name": "bg", "color": [0, 0, 0]},
                                        {"id": 1, "name": "car", "color": [255, 0, 0]}]}
    folder = _write(tmp_path / "x", _card_json(classes=table, num_classes=2))
    card = ModelCard.load(folder / "model.json")
    assert card.classes.names == ["bg", "car"]


def test_class_count_must_match_table(tmp_path: Path) -> None:
    card = ModelCard.load(_write(tmp_path / "x", _card_json(num_classes=5)))
    with pytest.raises(BadInputError, match=r"num_classes is 5 .* needs 12"):
        _ = card.classes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other/1"}, "not a seggui model card"),
        ({"format": "seggui-model/9"}, "newer"),
        ({"architecture": None}, "lacks \"architecture\""),
        ({"num_classes": "many"}, "integers"),
        ({"weights": None, "onnx": None}, "neither"),
        ({"input": {"resize": "stretch"}}, "resize"),
        ({"input": {"std": [0, 1, 1]}}, "std must be positive"),
        ({"input": {"stride": 32, "tile_size": 100}}, "multiple of stride"),
        ({"input": {"resize": "fixed", "size": 5}}, "size \\[H, W\\]"),
    ],
)
def test_bad_cards_name_the_file(tmp_path: Path, change: dict, message: str) -> None:
    folder = _write(tmp_path / "bad", _card_json(**change))
    with pytest.raises(BadInputError, match=message) as err:
        ModelCard.load(folder)
    assert err.value.path == folder.resolve() / "model.json"


def test_unreadable_card(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BadInputError, match="cannot read model card JSON"):
        ModelCard.load(tmp_path)
    with pytest.raises(BadInputError, match="model card not found"):
        ModelCard.load(tmp_path / "nothing")


def test_missing_weights_names_card_and_file(tmp_path: Path) -> None:
    card = ModelCard.load(_write(tmp_path / "demo", _card_json()))
    with pytest.raises(BadInputError) as err:
        card.require_weights()
    assert err.value.path == card.weights_path
    assert "'demo'" in str(err.value) and "model.json" in str(err.value) and "not found" in str(err.value)


def test_input_spec_defaults_and_validation() -> None:
    spec = InputSpec.from_dict({"size": [360, 480], "resize": "fixed"})
    assert spec.size == (360, 480) and spec.stride == 32
    assert InputSpec.from_dict({"tile_size": 0}).tile_size is None
    with pytest.raises(BadInputError, match="tile_overlap"):
        InputSpec(tile_size=64, tile_overlap=64)


def test_find_and_resolve(tmp_path: Path) -> None:
    shipped, user = tmp_path / "shipped", tmp_path / "user"
    _write(shipped / "demo", _card_json(version=1))
    _write(user / "demo-v2" / "2", _card_json(version=2))  # name/version layout, two levels down
    _write(user / "broken", {"format": "seggui-model/1"})
    cards, problems = find_models([shipped, user, tmp_path / "absent"])
    assert sorted(c.ref for c in cards) == ["demo@1", "demo@2"]
    assert len(problems) == 1 and "lacks" in str(problems[0])
    assert resolve_model("demo", [shipped, user]).version == 2
    assert resolve_model("demo@1", [shipped, user]).version == 1
    assert resolve_model(shipped / "demo").version == 1
    with pytest.raises(BadInputError, match=r"no model 'nope' \(known models: demo@1, demo@2"):
        resolve_model("nope", [shipped, user])


def test_models_command_lists_cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SEGGUI_MODELS", str(tmp_path / "shipped"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("SEGGUI_USER_MODELS", str(tmp_path / "extra"))
    folder = _write(tmp_path / "shipped" / "demo", _card_json(onnx="model.onnx"))
    (folder / "model.onnx").write_bytes(b"x")
    _write(tmp_path / "extra" / "broken", {"format": "seggui-model/1", "name": "b"})
    assert main(["models"]) == 0
    out, err = capsys.readouterr()
    assert "demo@2" in out and "Unet/resnet18" in out and "camvid-11 (12)" in out
    assert "val_miou=0.5" in out and "onnx" in out and "weights missing" in out
    assert str(folder.resolve()) in out
    assert "broken" in err
    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["ref"] == "demo@2" and listed[0]["has_onnx"] is True
    assert listed[0]["has_weights"] is False
