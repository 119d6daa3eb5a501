"""The Retrain panel end to end: one real 1-epoch retrain in a child process, compare, promote, roll back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from ui_helpers import stroke

from seggui.core.errors import BadInputError
from seggui.core.images import list_images, read_image, write_image
from seggui.core.jobs import Progress, run_job
from seggui.core.masks import read_mask, write_mask
from seggui.core.workspace import FrameStatus, Workspace
from seggui.training.retrain_budget import DEFAULT_BUDGET_S
from seggui.ui.retrain_dialog import AdvancedDialog

HW = (96, 128)
FAST = {"OMP_NUM_THREADS": "1"}


def tiny_card(folder: Path) -> Path:
    """A random-init 3-level Unet (mobilenet_v2) card: the wiring is under test, not the model."""
    import torch

    from seggui.engine.card import InputSpec, ModelCard
    from seggui.engine.factory import build_model
    from seggui.engine.weights import save_state_dict

    params = {"encoder_depth": 3, "decoder_channels": [16, 8, 8]}
    torch.manual_seed(0)
    folder.mkdir(parents=True)
    save_state_dict(build_model("Unet", "mobilenet_v2", 12, params), folder / "weights.safetensors")
    ModelCard(name="tiny-camvid", architecture="Unet", encoder="mobilenet_v2", arch_params=params,
              num_classes=12, classes_spec="camvid-11", weights="weights.safetensors",
              input=InputSpec(stride=8, tile_size=None)).save(folder)
    return folder


def workspace(root: Path, camvid: Path, card: Path, corrected: int, gt: int) -> Workspace:
    """CamVid val pictures at 96x128: the first `corrected` corrected, the next `gt` with truth."""
    ws = Workspace.create(root, "camvid-11", model=str(card), gsd=0.05)
    for p in list_images(camvid / "val")[: corrected + gt]:
        small = cv2.resize(read_image(p), HW[::-1], interpolation=cv2.INTER_AREA)
        write_image(root / "images" / p.name, small)
        ws.add_image(root / "images" / p.name)
    for i, fid in enumerate(sorted(ws.frames)):
        m = read_mask(camvid / "valannot" / f"{fid}.png")
        m = cv2.resize(m, HW[::-1], interpolation=cv2.INTER_NEAREST)
        ws.write_mask(fid, "corrected" if i < corrected else "ground_truth", m)
    ws.save()
    return ws


def setup_panel(window, epochs: int, batch: int = 2):  # noqa: ANN201 - the RetrainPanel
    panel = window.retrain
    panel.settings.update(epochs=epochs, lr=1e-3, batch=batch)
    panel.device, panel.backend, panel.child_env = "cpu", "torch", FAST
    window.show_retrain()
    return panel


def click(qtbot, panel, button, timeout: int = 90000) -> str:
    with qtbot.waitSignal(panel.done, timeout=timeout) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


@pytest.mark.slow
def test_retrain_compare_promote_rollback_and_cancel(qtbot, window, camvid: Path, tmp_path: Path) -> None:
    from seggui.training.retrain_versions import compare_models

    card = tiny_card(tmp_path / "cards" / "tiny-camvid")
    digest = hashlib.sha256((card / "weights.safetensors").read_bytes()).hexdigest()
    ws = workspace(tmp_path / "ws", camvid, card, corrected=4, gt=2)
    assert window.open_path(ws.root)
    assert window.inference.card.ref == "tiny-camvid@1"
    panel = setup_panel(window, epochs=1)
    # before any retrain the list says what is in use, and that there is nothing to roll back to
    assert [panel.versions.itemText(i) for i in range(panel.versions.count())] == [
        "tiny-camvid v1 · in use"]
    assert not panel.rollback_button.isEnabled()
    lines: list[str] = []
    window.runner.progress.connect(lambda p: lines.append(panel.status.text()))

    assert click(qtbot, panel, panel.retrain_button) == "compared", panel.message.text()
    assert any("Epoch 1/1" in t and "images/s" in t and "left" in t for t in lines), lines[-5:]
    new_dir = ws.models_dir / "tiny-camvid-v2"
    assert panel.result.card_dir == new_dir and (new_dir / "model.json").is_file()
    assert len(panel.epochs) == 1 and panel.plot is not None and panel.plot.listDataItems()
    # the table shows exactly a comparison recomputed here on the same validation frames
    val = panel.plan.val_ids
    again = run_job(compare_models(Workspace.open(ws.root), card, new_dir, val, "torch", "cpu"))
    d = again.to_dict()
    expected = [(r["class"], r["old_iou"], r["new_iou"], r["delta"]) for r in d["rows"]]
    expected.append(("mIoU", d["old_miou"], d["new_miou"], d["miou_delta"]))
    assert _same(panel.table_rows(), expected)
    assert panel.comparison.to_dict()["rows"] == d["rows"]
    assert window.session.workspace.model == str(card)  # nothing switches before Promote
    # the same workspace re-read (a class map taken on for ground truth does it) keeps the result to promote
    window.session.workspace.set_classes(window.session.workspace.classes)
    assert panel.result is not None and panel.table.rowCount() and panel.promote_button.isEnabled()

    # the current model predicts the ground-truth frames (Promote re-predicts what it predicted)
    s = window.session
    truth_frames = sorted(s.workspace.frames)[4:]
    with qtbot.waitSignal(window.runner.finished, timeout=90000):
        assert window.inference.run("frames", truth_frames)
    assert s.record(truth_frames[1]).model == "tiny-camvid@1"

    # promote, and paint a frame that is due for re-predicting while the re-predict runs
    s.set_frame(truth_frames[0])
    window.editing.set_tool("brush")
    canvas = window.view.canvas
    with qtbot.waitSignal(panel.done, timeout=90000) as blocker:
        qtbot.mouseClick(panel.promote_button, Qt.MouseButton.LeftButton)
        assert panel.stage == "repredict"
        stroke(qtbot, canvas, 40.5, (20.5, 60.5, 100.5))
    assert blocker.args[0] == "promoted", panel.message.text()
    window.editing.finish()
    assert Workspace.open(ws.root).model == str(new_dir.resolve())
    assert window.inference.card.ref == "tiny-camvid@2"
    assert window.model_label.text().startswith("tiny-camvid v2 · ")  # the status bar names the version
    assert window.model_picker.combo.currentData().folder == new_dir
    # the other frame was re-predicted by the new model; the painted one kept the analyst's work
    assert s.record(truth_frames[1]).model == "tiny-camvid@2"
    assert s.record(truth_frames[1]).status == FrameStatus.PREDICTED
    on_disk = Workspace.open(ws.root)
    assert on_disk.frames[truth_frames[0]].status == FrameStatus.CORRECTED
    painted = on_disk.read_mask(truth_frames[0], "corrected")
    assert painted is not None and (painted[40, 20:100] == s.active_class).all()
    assert on_disk.frames[truth_frames[1]].model == "tiny-camvid@2"
    # loose pictures are called pictures, not frames (a drive has frames)
    assert "re-predicted the 2 pictures the previous model had predicted" in panel.status.text(), \
        panel.status.text()

    assert not panel.rollback_button.isEnabled()  # the version in use is chosen: nothing to roll back to
    panel.versions.setCurrentIndex(panel.versions.findData("tiny-camvid"))
    assert panel.rollback_button.isEnabled()
    qtbot.mouseClick(panel.rollback_button, Qt.MouseButton.LeftButton)
    assert Workspace.open(ws.root).model == str(card.resolve())
    assert window.inference.card.ref == "tiny-camvid@1" and (new_dir / "model.json").is_file()
    # @2 predicted the uncorrected picture: offered back to @1, and no second roll back to @1 itself
    assert "uncorrected predictions of 1 picture were made by another version" in panel.status.text()
    assert panel.repredict_button.isVisible() and not panel.rollback_button.isEnabled()
    assert hashlib.sha256((card / "weights.safetensors").read_bytes()).hexdigest() == digest

    # cancel at the first training step: the window stays usable and the model unchanged
    panel.settings.update(epochs=50, batch=1)

    def on_step(p: Progress) -> None:
        if (p.data or {}).get("event") == "step" and panel.cancel_button.isEnabled():
            qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)

    window.runner.progress.connect(on_step)
    assert click(qtbot, panel, panel.retrain_button) == "cancelled"
    window.runner.progress.disconnect(on_step)
    assert not window.runner.is_running() and panel.retrain_button.isEnabled()
    assert "Cancelled" in panel.message.text()
    assert Workspace.open(ws.root).model == str(card.resolve())
    assert window.inference.card.ref == "tiny-camvid@1"

    # another place opened: the last workspace's comparison and messages go with it
    panel.table.setRowCount(3)  # as a comparison leaves it
    other = tmp_path / "other"
    write_image(other / "one.png", read_image(list_images(camvid / "val")[0]))
    assert window.open_path(other)
    assert panel.table.rowCount() == 0 and panel.result is None and panel.message.text() == ""


def _same(rows: list[tuple], expected: list[tuple]) -> bool:
    """Row by row: names equal, numbers equal to 1e-12, None where the class never occurs."""
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got[0] == want[0]
        for a, b in zip(got[1:], want[1:], strict=True):
            assert (a is None and b is None) or a == pytest.approx(b, abs=1e-12), (got, want)
    return True


@pytest.mark.slow
def test_refusal_and_training_error_leave_the_model(qtbot, window, camvid: Path, tmp_path: Path) -> None:
    card = tiny_card(tmp_path / "cards" / "tiny-camvid")
    ws = workspace(tmp_path / "ws", camvid, card, corrected=0, gt=2)
    assert window.open_path(ws.root)
    panel = setup_panel(window, epochs=1)
    assert click(qtbot, panel, panel.retrain_button) == "refused"
    assert "no corrected frames" in panel.message.text() and panel.message.isVisible()
    assert "no corrected frames" in window.log.errors()[-1].text
    assert not window.runner.is_running() and not ws.models_dir.exists()
    dialog = AdvancedDialog(panel.settings, panel)
    dialog.epochs.setValue(3)
    dialog.lr.setValue(0.0005)
    assert dialog.budget.value() == DEFAULT_BUDGET_S  # the default time budget (seconds of training)
    dialog.budget.setValue(90)
    assert dialog.values() == {"epochs": 3, "lr": pytest.approx(0.0005), "batch": 2, "base": None,
                               "base_layout": "auto", "base_share": 0.5, "time_budget_s": 90.0}
    dialog.budget.setValue(0)  # "no limit": the planned epochs run to the end
    assert dialog.budget.text() == "no limit" and dialog.values()["time_budget_s"] is None

    # a model whose weights cannot be read: the training process fails and says why
    bad = tiny_card(tmp_path / "cards" / "broken")
    (bad / "weights.safetensors").write_bytes(b"not weights")
    ws2 = workspace(tmp_path / "ws2", camvid, bad, corrected=2, gt=0)
    assert window.open_path(ws2.root)
    assert click(qtbot, panel, panel.retrain_button) == "failed"
    text = panel.message.text()
    assert "training failed" in text and "current model stays in use" in text
    assert Workspace.open(ws2.root).model == str(bad) and not window.runner.is_running()
    assert panel.retrain_button.isEnabled() and not panel.promote_button.isEnabled()


@pytest.mark.slow
def test_advanced_dialog_keeps_a_base_set_and_retrain_mixes_it_in(qtbot, window, camvid: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "base"
    for p in list_images(camvid / "train")[:3]:  # a tiny CamVid-layout base set at the workspace's size
        small = cv2.resize(read_image(p), HW[::-1], interpolation=cv2.INTER_AREA)
        write_image(base / "train" / p.name, small)
        m = cv2.resize(read_mask(camvid / "trainannot" / p.name), HW[::-1], interpolation=cv2.INTER_NEAREST)
        write_mask(base / "trainannot" / p.name, m)
    card = tiny_card(tmp_path / "cards" / "tiny-camvid")
    ws = workspace(tmp_path / "ws", camvid, card, corrected=2, gt=1)
    assert window.open_path(ws.root)
    panel = setup_panel(window, epochs=1)

    dialog = AdvancedDialog(panel.settings, panel)
    assert not dialog.base_share.isEnabled()  # nothing to share without a base set
    dialog.base.setText(str(base))
    dialog.base_layout.setCurrentText("camvid")
    dialog.base_share.setValue(0.3)
    assert dialog.base_share.isEnabled() and dialog.base_layout.isEnabled()
    chosen = dialog.values()
    assert chosen["base"] == str(base) and chosen["base_layout"] == "camvid" and chosen["base_share"] == 0.3

    def accept(self: AdvancedDialog) -> QDialog.DialogCode:  # the analyst's clicks, without a modal loop
        self.base.setText(str(base))
        self.base_layout.setCurrentText("camvid")
        self.base_share.setValue(0.3)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(AdvancedDialog, "exec", accept)
    panel.advanced()
    assert panel.settings["base"] == str(base) and panel.settings["base_share"] == 0.3
    assert "base set base (camvid, 30%)" in panel.status.text()
    again = AdvancedDialog(panel.settings, panel)  # reopened: the remembered settings come back
    assert again.values() == {**chosen, "epochs": 1, "lr": pytest.approx(1e-3), "batch": 2}
    again.clear_base.click()
    assert again.values()["base"] is None and not again.base_share.isEnabled()

    # one click: the plan mixes the base set in (1 base sample per epoch for 2 corrections at 30%)
    def on_step(p: Progress) -> None:
        if (p.data or {}).get("event") == "step" and panel.cancel_button.isEnabled():
            qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)

    window.runner.progress.connect(on_step)
    assert click(qtbot, panel, panel.retrain_button) == "cancelled", panel.message.text()
    window.runner.progress.disconnect(on_step)
    plan = panel.plan
    assert plan.config.base.root == str(base.resolve()) and plan.config.base.share == 0.3
    assert plan.base["pairs"] == 3 and plan.base["per_epoch"] == 1 and plan.val_ids == sorted(ws.frames)[2:]
    assert Workspace.open(ws.root).model == str(card)


def _fake_training(monkeypatch: pytest.MonkeyPatch, budget_left_s: float, epoch_losses: list[float]) -> None:
    """Replace the training process by a job that reports as it does: step events carry the budget's
    seconds left, epoch events do not; a slow first step makes the rate's estimate far longer than the
    budget. It then fails, so the panel ends without a comparison."""
    import time

    import seggui.training.retrain as retrain

    def job(plan, token=None, env=None):  # noqa: ANN001, ANN202, ARG001 - retrain_job's signature
        total = 8 * 10  # ten epochs planned, of which the budget lets these run
        yield Progress(1, total, "epoch 1", data={"event": "step", "epoch": 1, "step": 1, "steps": 8,
                                                  "budget_left_s": budget_left_s})
        time.sleep(1.0)
        for i, loss in enumerate(epoch_losses, start=1):
            yield Progress(8 * i, total, f"epoch {i}", data={
                "event": "epoch", "epoch": i, "train_loss": loss, "miou": 0.4, "images_per_s": 5.0})
        raise BadInputError(None, "the fake training stops here")

    monkeypatch.setattr(retrain, "retrain_job", job)


def _seconds_left(text: str) -> int:
    minutes, seconds = text.rsplit(" · ", 1)[1].removesuffix(" left").split(":")
    return int(minutes) * 60 + int(seconds)


@pytest.mark.slow
def test_time_left_never_passes_the_budget(qtbot, window, camvid: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The epoch events carry no budget figure: the time shown at an epoch's end stays within the
    budget's end (it showed the rate's estimate, 1:15 left with 40 s of budget, on Houston)."""
    card = tiny_card(tmp_path / "cards" / "tiny-camvid")
    ws = workspace(tmp_path / "ws", camvid, card, corrected=2, gt=1)
    assert window.open_path(ws.root)
    panel = setup_panel(window, epochs=None)
    _fake_training(monkeypatch, budget_left_s=3.0, epoch_losses=[1.0])
    shown: list[str] = []
    window.runner.progress.connect(lambda _p: shown.append(panel.status.text()))
    assert click(qtbot, panel, panel.retrain_button) == "failed"
    lefts = [_seconds_left(t) for t in shown if t.endswith(" left")]
    assert len(lefts) == 2 and all(s <= 3 for s in lefts), shown


@pytest.mark.slow
def test_the_chart_legend_stays_readable_over_the_curves(qtbot, window, camvid: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The loss curve starts at 1.0 on epoch 1, where the legend sits: the legend hides it, not the
    other way round (the red line crossed the legend's words)."""
    card = tiny_card(tmp_path / "cards" / "tiny-camvid")
    ws = workspace(tmp_path / "ws", camvid, card, corrected=2, gt=1)
    assert window.open_path(ws.root)
    panel = setup_panel(window, epochs=None)
    _fake_training(monkeypatch, budget_left_s=30.0, epoch_losses=[1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert click(qtbot, panel, panel.retrain_button) == "failed"
    plot = panel.plot
    plot.resize(320, 240)
    qtbot.wait(50)
    picture = plot.grab().toImage()
    legend = plot.mapFromScene(plot.plotItem.legend.sceneBoundingRect()).boundingRect()
    words = legend.intersected(picture.rect()).adjusted(40, 2, -2, -2)  # right of the sample lines
    assert words.width() > 40 and words.height() > 20
    red = sum(1 for x in range(words.left(), words.right()) for y in range(words.top(), words.bottom())
              if _near(picture.pixelColor(x, y).getRgb()[:3], (200, 60, 40)))
    assert red == 0, red


def _near(rgb: tuple[int, int, int], want: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 30 for a, b in zip(rgb, want, strict=True))


def test_versions_name_the_model_a_first_run_puts_in_use(qtbot, window, camvid_folder: Path,
                                                         tiny_card: Path) -> None:
    """A folder opened without a model: the list stood empty until a retrain's comparison (walkthrough)."""
    assert window.open_path(camvid_folder)
    assert window.session.workspace.model is None
    panel = window.retrain
    window.show_retrain()
    assert panel.versions.count() == 0
    assert window.model_picker.open_card(tiny_card) is not None
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        window.actions_by_name["run"].trigger()
    assert window.session.workspace.model is not None
    qtbot.waitUntil(lambda: panel.versions.count() == 1)
    assert panel.versions.itemText(0) == "tiny-camvid v1 · in use"
    assert not panel.rollback_button.isEnabled()
