"""`seggui train` and the JSON-lines subprocess entry `python -m seggui.training.run`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from seggui.cli import main
from seggui.engine.card import ModelCard
from seggui.training import run as run_module


def test_train_command_with_config_and_flags(toy_config: dict, tmp_path: Path, capsys) -> None:
    cfg = {**toy_config, "epochs": 5}
    cfg.pop("out")
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "card"
    rc = main(["train", "--config", str(path), "--epochs", "1", "--size", "32x32", "--out", str(out),
               "--quiet", "--name", "toy-cli"])
    assert rc == 0
    printed = capsys.readouterr()
    assert "epoch  stage  train_loss" in printed.out  # the per-epoch table
    assert "finished: 1 epochs" in printed.out and "red box" in printed.out
    card = ModelCard.load(out)
    assert card.name == "toy-cli" and card.training["config"]["epochs"] == 1  # the flag won
    assert card.training["config"]["crop"] == [32, 32]


def test_train_command_bad_input(toy_config: dict, tmp_path: Path, capsys) -> None:
    assert main(["train", "--epochs", "1"]) == 2
    assert "no training data" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**toy_config, "lerning_rate": 1}))
    assert main(["train", "--config", str(bad)]) == 2
    assert "unknown training settings: lerning_rate" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--size", "3x4x5"]) == 2


def test_run_module_protocol_in_process(toy_config: dict, tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(toy_config))
    stream = io.StringIO()
    assert run_module.main([str(path)], out=stream) == 0
    lines = [json.loads(s) for s in stream.getvalue().splitlines()]
    kinds = [m["event"] for m in lines]
    assert kinds[0] == "start" and kinds[1] == "setup" and kinds[-1] == "done"
    assert "step" in kinds and kinds.count("epoch") == 1
    epoch = next(m for m in lines if m["event"] == "epoch")
    assert set(epoch["per_class_iou"]) == {"background", "red box", "blue box"}
    assert lines[-1]["card"] == toy_config["out"] and lines[-1]["status"] == "finished"
    stream = io.StringIO()
    assert run_module.main([str(tmp_path / "missing.json")], out=stream) == 2
    assert json.loads(stream.getvalue())["event"] == "error"


@pytest.mark.slow
def test_run_module_cancel_through_stdin(toy_config: dict, tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({**toy_config, "epochs": 4, "steps_per_epoch": 2}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "seggui.training.run", str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    events = []
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            msg = json.loads(line)  # stdout carries JSON lines only
            events.append(msg)
            if msg["event"] == "epoch":
                proc.stdin.write("cancel\n")  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
        rc = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 130, proc.stderr.read()  # type: ignore[union-attr]
    assert events[-1] == {"event": "cancelled", "card": toy_config["out"]}
    assert [m["epoch"] for m in events if m["event"] == "epoch"] == [1]
    assert (Path(toy_config["out"]) / "train" / "last.pt").is_file()
    assert ModelCard.load(toy_config["out"]).training["status"] == "cancelled"
