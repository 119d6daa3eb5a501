"""The embedded default: a demo workspace built from generated aerial scenes.

`seggui demo` needs nothing downloaded: it renders a dozen aerial parking
scenes (held out from the ones the shipped model was trained on: different
seeds) with their exact ground truth, a short fly-over drive as a video, and
sets up a workspace with the shipped `parking-demo` model and the GSD. With
`--headless` it then runs the model over everything, evaluates against the
ground truth, writes the area reports and prints, per picture, the predicted
and the true parking area in m² and the IoU.

Headless work lives here (no Qt); the GUI opens the same workspace.
"""

from __future__ import annotations

import shutil
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seggui.core.atomic import atomic_write_text
from seggui.core.errors import BadInputError
from seggui.core.gsd import Gsd
from seggui.core.images import write_image
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.masks import write_mask
from seggui.core.synth import render_drive, render_scene, to_parking_2, write_drive_video
from seggui.core.synth.dataset import world_file_text
from seggui.core.workspace import Workspace

DEMO_MODEL = "parking-demo"
DEMO_CLASSES = "parking-2"
DEMO_GSD = 0.15
DEMO_SEED = 0  # the shipped model trained on seeds >= 1000: these scenes are held out
DRIVE_NAME = "drive.mp4"


@dataclass
class DemoSpec:
    """What the demo workspace holds (tests use small sizes)."""

    pictures: int = 12
    size: tuple[int, int] = (512, 512)
    drive_frames: int = 40
    drive_size: tuple[int, int] = (360, 480)
    gsd: float = DEMO_GSD
    seed: int = DEMO_SEED
    model: str = DEMO_MODEL


@dataclass
class DemoSummary:
    """Per picture: predicted and true parking m², IoU; and the report files written."""

    workspace: Path
    device: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    true_parking_m2: dict[str, float] = field(default_factory=dict)


def build_demo_workspace(out: str | Path, spec: DemoSpec | None = None,
                         token: CancelToken | None = None) -> Job[Workspace]:
    """Render the scenes and the drive into a new workspace at `out`."""
    spec = spec or DemoSpec()
    out = Path(out)
    if (out / "seggui.json").exists():
        raise BadInputError(out, "already holds a workspace; choose another --out or delete it")
    # the scenes are drawn at this GSD (the pictures' world files say it too; the drive has none)
    ws = Workspace.create(out, DEMO_CLASSES, model=spec.model, gsd=Gsd.square(spec.gsd, "generator"))
    ws.set_setting("parking_class", "parking", save=False)
    ws.set_setting("demo", {"seed": spec.seed, "gsd": spec.gsd, "pictures": spec.pictures,
                            "drive_frames": spec.drive_frames}, save=False)
    truth: dict[str, float] = {}
    total = spec.pictures + (1 if spec.drive_frames else 0)
    h = spec.size[0]
    for i in range(spec.pictures):
        if token is not None:
            token.raise_if_cancelled()
        scene = render_scene(spec.seed + i, spec.size, spec.gsd)
        name = f"aerial_{i:02d}"
        img = out / "images" / f"{name}.png"
        write_image(img, scene.image)
        atomic_write_text(img.with_suffix(".pgw"), world_file_text(spec.gsd, h))
        ws.add_image(img)
        ws.write_mask(name, "ground_truth", to_parking_2(scene.mask), save=False)
        truth[name] = scene.parking_area_m2
        yield Progress(i + 1, total, f"rendered {name}", item=name)
    if spec.drive_frames:
        drive = render_drive(spec.seed + 500, spec.drive_frames, spec.drive_size, spec.gsd)
        video = write_drive_video(out / DRIVE_NAME, drive.frames, fps=10.0)
        names = [f"{video.stem}_{i:06d}" for i in range(spec.drive_frames)]
        ws.add_video_frames(video, names)
        for name, frame in zip(names, drive.frames, strict=True):
            write_mask(ws.mask_path(name, "ground_truth"), to_parking_2(frame.mask))
            ws.record_mask(name, "ground_truth", save=False)
            truth[name] = frame.parking_area_m2
        yield Progress(total, total, f"rendered {DRIVE_NAME}", item=DRIVE_NAME)
    ws.set_setting("true_parking_m2", truth, save=False)
    ws.save()
    return ws


def run_demo_headless(ws: Workspace, backend: str = "auto", device: str = "auto",
                      token: CancelToken | None = None) -> Generator[Progress, None, DemoSummary]:
    """Predict every picture and drive frame, then write the HTML, CSV and JSON reports."""
    from seggui.core.report import build_report
    from seggui.core.report_formats import write_report
    from seggui.engine.predictor import load_predictor
    from seggui.engine.workspace_inference import predict_workspace

    summary = DemoSummary(ws.root)
    with load_predictor(ws.model or DEMO_MODEL, backend, device) as predictor:
        summary.device = predictor.describe()
        yield from predict_workspace(ws, predictor, token=token)
    report = yield from build_report(ws, token=token)
    for fmt in ("html", "csv", "json"):
        summary.reports.append(write_report(report, fmt, ws.reports_dir / f"area-report.{fmt}", ws))
    truth = ws.settings.get("true_parking_m2", {})
    for f in report.frames:
        gt = f.gt or {}
        summary.rows.append({
            "frame": f.frame,
            "predicted_parking_m2": f.parking["m2"] if f.parking else None,
            "true_parking_m2": gt.get("true_parking_m2"),
            "generator_parking_m2": truth.get(f.frame),
            "parking_iou": gt.get("parking_iou"),
        })
    summary.totals = report.totals()
    summary.true_parking_m2 = dict(truth)
    return summary


def reset_demo(out: str | Path) -> None:
    """Remove a previous demo workspace (only one that `seggui demo` made)."""
    out = Path(out)
    if not out.exists():
        return
    ws = Workspace.open(out)
    if "demo" not in ws.settings:
        raise BadInputError(out, "is not a demo workspace; refusing to delete it")
    shutil.rmtree(out)
