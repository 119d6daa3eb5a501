"""Propagation along a drive without a window: a chain over N frames of the generated fly-over, the
analyst's frames kept (and chained from), stops at a cut and at a size change, the "propagated" status
in seggui.json (older files still open), retraining leaving propagated frames out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seggui.core.editing.propagate_drive import plan_propagation, propagate
from seggui.core.errors import BadInputError
from seggui.core.images import write_image
from seggui.core.jobs import run_job
from seggui.core.synth import render_drive, to_parking_2
from seggui.core.workspace import FrameStatus, Workspace

SIZE = (180, 240)  # small frames: every test stays fast


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def sequence_workspace(root: Path, frames: list[np.ndarray], truths: list[np.ndarray] | None = None) -> \
        tuple[Workspace, list[str]]:
    """A workspace holding `frames` as one image sequence (a drive), ground truth written when given."""
    folder = root / "seq"
    folder.mkdir(parents=True)
    files = []
    for i, frame in enumerate(frames):
        files.append(write_image(folder / f"f_{i:04d}.png", frame))
    ws = Workspace.create(root / "ws", "parking-2")
    names = [p.stem for p in files]
    ws.add_sequence_frames(folder, "f_*.png", files, names)
    for name, gt in zip(names, truths or [], strict=False):
        ws.write_mask(name, "ground_truth", gt, save=False)
    ws.save()
    return ws, ws.drives()[next(iter(ws.drives()))]


@pytest.fixture(scope="module")
def flyover():
    drive = render_drive(500, 12, SIZE, speed_px=6.0, heading_deg=20.0)
    flyover.offsets = drive.offsets  # type: ignore[attr-defined]
    return [f.image for f in drive.frames], [to_parking_2(f.mask) for f in drive.frames]


def seen_from_first(k: int, first: int = 0) -> np.ndarray:
    """The pixels of frame k that frame `first` showed too (known from the fly-over's offsets)."""
    offsets = flyover.offsets  # type: ignore[attr-defined]
    dx, dy = offsets[k][0] - offsets[first][0], offsets[k][1] - offsets[first][1]
    ys, xs = np.mgrid[0:SIZE[0], 0:SIZE[1]]
    return (xs + dx >= 0) & (xs + dx < SIZE[1]) & (ys + dy >= 0) & (ys + dy < SIZE[0])


def test_a_correction_is_chained_over_n_frames_and_beats_a_copy(tmp_path: Path, flyover) -> None:
    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images, truths)
    ws.write_mask(drive[0], "corrected", truths[0])  # the analyst's correction of the first frame
    outcome = run_job(propagate(ws, drive, drive[0], 8))
    assert outcome.carried == drive[1:9] and not outcome.kept and not outcome.stopped
    assert all(ws.frames[f].status == FrameStatus.PROPAGATED for f in drive[1:9])
    assert ws.frames[drive[9]].status == FrameStatus.NONE  # the ninth frame on was not asked for
    again = Workspace.open(ws.root)  # the status is saved
    assert again.frames[drive[8]].status == FrameStatus.PROPAGATED
    for k in (1, 4, 8):  # scored where frame 0 saw the ground: new ground is no frame's to carry
        carried, seen = ws.read_mask(drive[k], "corrected"), seen_from_first(k)
        assert carried is not None
        flow = iou((carried == 1) & seen, (truths[k] == 1) & seen)
        copy = iou((truths[0] == 1) & seen, (truths[k] == 1) & seen)
        assert flow > 0.95, (k, flow)
        if k >= 4:
            assert flow > copy + 0.05, (k, flow, copy)


def test_backwards_and_the_end_of_the_drive(tmp_path: Path, flyover) -> None:
    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images[:5], truths[:5])
    ws.write_mask(drive[2], "corrected", truths[2])
    outcome = run_job(propagate(ws, drive, drive[2], 10, direction=-1))
    assert outcome.carried == [drive[1], drive[0]]
    assert "begins at" in outcome.end_note and "2 of the 10" in outcome.end_note
    assert "2 of the 10" in outcome.summary(drive[2])
    with pytest.raises(BadInputError, match="first frame"):
        plan_propagation(ws, drive, drive[0], 3, -1)
    ws.write_mask(drive[4], "predicted", truths[4])
    with pytest.raises(BadInputError, match="no correction"):
        plan_propagation(ws, drive, drive[4], 3, -1)  # a bare prediction is nothing to carry


def test_the_analysts_frames_are_kept_and_the_chain_goes_on_from_them(tmp_path: Path, flyover) -> None:
    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images[:6], truths[:6])
    ws.write_mask(drive[0], "corrected", truths[0])
    mine = np.zeros_like(truths[2])  # the analyst says frame 2 holds no parking at all
    ws.write_mask(drive[2], "corrected", mine)
    ws.write_mask(drive[3], "corrected", truths[3])
    ws.set_status(drive[3], FrameStatus.REVIEWED)
    outcome = run_job(propagate(ws, drive, drive[0], 5))
    assert outcome.kept == [drive[2], drive[3]] and outcome.carried == [drive[1], drive[4], drive[5]]
    assert not list((ws.root / "corrected").glob(".*"))  # staged masks renamed into place, none left
    assert "2 corrected or reviewed frames left" in outcome.summary(drive[0])
    assert np.array_equal(ws.read_mask(drive[2], "corrected"), mine)
    assert ws.frames[drive[2]].status == FrameStatus.CORRECTED
    assert ws.frames[drive[3]].status == FrameStatus.REVIEWED
    # after the reviewed frame 3 the chain starts from its truth, not from frame 2's empty mask
    seen = seen_from_first(4, 3)
    assert iou((ws.read_mask(drive[4], "corrected") == 1) & seen, (truths[4] == 1) & seen) > 0.95
    # asked to, it replaces them
    outcome = run_job(propagate(ws, drive, drive[0], 3, replace_analyst=True))
    assert outcome.carried == drive[1:4] and not outcome.kept
    assert ws.frames[drive[2]].status == FrameStatus.PROPAGATED
    assert not np.array_equal(ws.read_mask(drive[2], "corrected"), mine)


def test_it_stops_at_a_cut_between_two_spliced_drives_and_says_where(tmp_path: Path, flyover) -> None:
    images, truths = flyover
    other = render_drive(99, 3, SIZE, speed_px=6.0, heading_deg=200.0)  # another street, alike in colour
    ws, drive = sequence_workspace(tmp_path, images[:4] + [f.image for f in other.frames])
    ws.write_mask(drive[0], "corrected", truths[0])
    outcome = run_job(propagate(ws, drive, drive[0], 6))
    assert outcome.carried == drive[1:4]
    assert drive[3] in outcome.stopped and drive[4] in outcome.stopped and "cut" in outcome.stopped
    assert ws.frames[drive[4]].status == FrameStatus.NONE
    assert not ws.mask_path(drive[4], "corrected").exists()


def test_it_stops_at_a_frame_of_another_size(tmp_path: Path, flyover) -> None:
    import cv2

    images, truths = flyover
    smaller = cv2.resize(images[3], (SIZE[1] // 2, SIZE[0] // 2))
    ws, drive = sequence_workspace(tmp_path, images[:3] + [smaller] + images[4:6])
    ws.write_mask(drive[0], "corrected", truths[0])
    outcome = run_job(propagate(ws, drive, drive[0], 5))
    assert outcome.carried == drive[1:3]
    assert drive[3] in outcome.stopped and "120x90" in outcome.stopped and "240x180" in outcome.stopped
    assert ws.frames[drive[3]].status == FrameStatus.NONE


def test_the_model_is_kept_where_the_flow_fails(tmp_path: Path, flyover) -> None:
    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images[:2], truths[:2])
    ws.write_mask(drive[0], "corrected", truths[0])
    ws.write_mask(drive[1], "predicted", truths[1])  # a perfect model: it fills what the flow cannot
    run_job(propagate(ws, drive, drive[0], 1))
    with_model = ws.read_mask(drive[1], "corrected")
    ws2, drive2 = sequence_workspace(tmp_path / "b", images[:2], truths[:2])
    ws2.write_mask(drive2[0], "corrected", truths[0])
    run_job(propagate(ws2, drive2, drive2[0], 1))
    alone = ws2.read_mask(drive2[1], "corrected")
    assert (with_model == truths[1]).mean() > (alone == truths[1]).mean()


def test_status_lifecycle_and_older_workspace_files(tmp_path: Path, flyover) -> None:
    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images[:3], truths[:3])
    ws.write_mask(drive[0], "corrected", truths[0])
    seen: list[list[str]] = []
    ws.events.frames_changed.connect(lambda ids: seen.append(list(ids)))
    run_job(propagate(ws, drive, drive[0], 2))
    assert [drive[1]] in seen and [drive[2]] in seen
    assert ws.frames_with_status(FrameStatus.PROPAGATED) == drive[1:3]
    ws.write_mask(drive[1], "corrected", truths[1])  # the analyst edits a propagated frame: theirs now
    assert ws.frames[drive[1]].status == FrameStatus.CORRECTED
    ws.set_status(drive[2], FrameStatus.REVIEWED)  # Mark reviewed
    assert ws.frames[drive[2]].status == FrameStatus.REVIEWED
    # a seggui.json written before the status existed opens as it did
    data = json.loads((ws.root / "seggui.json").read_text())
    for rec in data["frames"].values():
        rec["status"] = "corrected" if rec.get("status") == "propagated" else rec.get("status", "none")
    old = tmp_path / "old"
    old.mkdir()
    (old / "seggui.json").write_text(json.dumps(data))
    assert Workspace.open(old).frames[drive[1]].status == FrameStatus.CORRECTED


@pytest.mark.slow  # importing the training package loads torch (~8 s on this machine)
def test_retraining_leaves_unreviewed_propagated_frames_out(tmp_path: Path, flyover) -> None:
    pytest.importorskip("torch")
    from seggui.training.retrain import learnable_frames

    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images[:4], truths[:4])
    ws.write_mask(drive[0], "corrected", truths[0])
    run_job(propagate(ws, drive, drive[0], 3))
    ws.set_status(drive[2], FrameStatus.REVIEWED)
    ids, _problems = learnable_frames(ws)
    assert sorted(ids) == sorted([drive[0], drive[2]])


def test_cancel_keeps_the_frames_carried_so_far(tmp_path: Path, flyover) -> None:
    from seggui.core.errors import Cancelled
    from seggui.core.jobs import CancelToken
    from seggui.core.jobs import drive as drive_job

    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images[:6], truths[:6])
    ws.write_mask(drive[0], "corrected", truths[0])
    token = CancelToken()

    def after(p) -> None:  # noqa: ANN001
        if p.done == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        drive_job(propagate(ws, drive, drive[0], 5, token=token), after)
    assert [ws.frames[f].status for f in drive[1:]] == [FrameStatus.PROPAGATED] * 2 + [FrameStatus.NONE] * 3


def test_a_prediction_saved_by_another_process_never_undoes_a_propagation(tmp_path: Path, flyover) -> None:
    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images[:3], truths[:3])
    other = Workspace.open(ws.root)  # e.g. a retrain re-predicting beside the window
    ws.write_mask(drive[0], "corrected", truths[0])
    run_job(propagate(ws, drive, drive[0], 2))
    other.write_prediction(drive[1], truths[1])
    assert Workspace.open(ws.root).frames[drive[1]].status == FrameStatus.PROPAGATED


def test_a_frame_the_analyst_takes_during_the_job_is_left_alone(tmp_path: Path, flyover) -> None:
    from seggui.core.editing import unlabelled_value
    from seggui.core.editing.propagate_drive import FrameReader, propagate_job, record_step

    images, truths = flyover
    ws, drive = sequence_workspace(tmp_path, images[:4], truths[:4])
    ws.write_mask(drive[0], "corrected", truths[0])
    plan = plan_propagation(ws, drive, drive[0], 3)
    job = propagate_job(plan, FrameReader(ws, drive), truths[0], unlabelled_value(ws.classes))
    steps = [p.data["step"] for p in job]  # the worker ran ahead of the window's recording
    mine = np.ones_like(truths[2])
    ws.write_mask(drive[2], "corrected", mine)  # the analyst corrected frame 2 meanwhile
    recorded = [record_step(ws, plan, st, busy={drive[3]}) for st in steps]  # and is editing frame 3
    assert recorded == [True, False, False]
    assert np.array_equal(ws.read_mask(drive[2], "corrected"), mine)
    assert ws.frames[drive[2]].status == FrameStatus.CORRECTED
    assert ws.frames[drive[3]].status == FrameStatus.NONE and not ws.mask_path(drive[3], "corrected").exists()
    assert not list((ws.root / "corrected").glob(".*"))  # the staged masks of both are gone
