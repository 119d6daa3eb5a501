"""Two processes on the CPU under torchrun (gloo): one tiny epoch, both ranks end with the same weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seggui.engine.card import ModelCard

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.mark.slow
def test_two_ranks_agree_on_the_weights(toy_config: dict, tmp_path: Path) -> None:
    cfg = {**toy_config, "epochs": 1, "augment": "basic"}
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg))
    results = tmp_path / "ranks"
    results.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(WORKER), str(cfg_path), str(results)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((results / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world"] for r in ranks] == [2, 2]
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["miou"] == ranks[1]["miou"]  # validation figures are all-reduced
    card = ModelCard.load(cfg["out"])
    assert card.training["processes"] == 2 and card.training["status"] == "finished"
    # 8 pairs over 2 processes with batch 2: 2 steps each
    lines = (Path(cfg["out"]) / "train" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1
