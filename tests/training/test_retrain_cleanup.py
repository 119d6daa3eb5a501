"""A retrain that fails leaves no unlisted models/<name>-vN/ behind; one a kill left is listed as failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_retrain import CHILD_ENV, make_workspace, tiny_card, truth

from seggui.cli import main
from seggui.core.jobs import run_job
from seggui.training.retrain import TrainingFailed, plan_retrain, retrain_job


@pytest.mark.slow
def test_a_failed_retrain_removes_its_version_folder(camvid: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    card = tiny_card(tmp_path / "card", "tiny-camvid", "camvid-11", 12)
    ws = make_workspace(tmp_path / "ws", camvid, card, n=2)
    for fid in sorted(ws.frames):
        ws.write_mask(fid, "corrected", truth(camvid, fid))
    plan = plan_retrain(ws, epochs=1, batch=1, device="cpu")
    assert plan.out.is_dir()
    (card / "weights.safetensors").write_bytes(b"not weights any more")  # the child fails at once
    with pytest.raises(TrainingFailed):
        run_job(retrain_job(plan, env=CHILD_ENV))
    assert not plan.out.exists()
    assert [p.name for p in ws.models_dir.iterdir()] == []

    # a run killed before it could clean up: --list names its folder as a failed run, not a version
    left = ws.models_dir / "tiny-camvid-v7"
    (left / "data").mkdir(parents=True)
    assert main(["retrain", str(ws.root), "--list"]) == 0
    out = capsys.readouterr().out
    assert "tiny-camvid-v7" in out and "unfinished run" in out
