"""Write generated scenes (and a drive) to a folder, as a job that reports progress.

Layout of the folder::

    images/scene_0000.png  + images/scene_0000.pgw   picture and its world file (carries the GSD)
    masks/scene_0000.png                             aerial-parking-6 index mask
    parking2/scene_0000.png                          parking-2 index mask (lot incl. parked cars)
    drive.mp4, drive/masks/, drive/parking2/         the optional drive and its per-frame masks
    scenes.json                                      seeds, GSD, exact parking areas, class shares

Scene i uses seed `seed + i` (and, with a GSD range, a GSD drawn from that
seed); the drive uses `seed + count`, so one command line always writes the
same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.atomic import atomic_write_json, atomic_write_text
from seggui.core.images import write_image
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.masks import write_mask
from seggui.core.synth.drive import render_drive, write_drive_video
from seggui.core.synth.labels import PARKING_2_NAME, TABLE_NAME, to_parking_2
from seggui.core.synth.scene import DEFAULT_GSD, DEFAULT_SIZE, check_size, render_scene
from seggui.core.synth.varied import check_style, draw_gsd


def world_file_text(gsd: float, height: int) -> str:
    """An ESRI world file for a north-up picture: pixel size, no rotation, upper-left pixel centre.

    The picture spans x in [0, width*gsd] and y in [0, height*gsd] metres (y up).
    """
    return "\n".join(repr(float(v)) for v in (gsd, 0.0, 0.0, -gsd, gsd / 2, height * gsd - gsd / 2)) + "\n"


def write_scenes(out: str | Path, count: int = 12, size: tuple[int, int] = DEFAULT_SIZE,
                 gsd: float = DEFAULT_GSD, seed: int = 0, drive_frames: int = 0, fps: float = 10.0,
                 speed_px: float = 8.0, token: CancelToken | None = None, style: str = "default",
                 gsd_range: tuple[float, float] | None = None) -> Job[dict[str, Any]]:
    """Generate `count` scenes (and a drive of `drive_frames` frames) into `out`; return the index.

    `style` "varied" randomises the scenes for training models meant for real
    pictures (the drive keeps the default look); `gsd_range` (lo, hi) draws each
    scene's GSD log-uniformly from its seed instead of using `gsd`.
    """
    out = Path(out)
    h, w = check_size(size, gsd)
    check_style(style)
    if gsd_range is not None:
        draw_gsd(seed, *gsd_range)  # checks the range before any file is written
    total = count + drive_frames
    index: dict[str, Any] = {
        "generator": "seggui.core.synth",
        "classes": TABLE_NAME,
        "parking_classes": PARKING_2_NAME,
        "labelling": "parking-2 parking = lot surface, its markings and entrance, plus the cars "
                     "standing on it (vehicle regions touching parking and not road)",
        "style": style,
        **({"gsd_range": [float(v) for v in gsd_range]} if gsd_range is not None else {}),
        "scenes": [],
    }
    for i in range(count):
        if token is not None:
            token.raise_if_cancelled()
        name = f"scene_{i:04d}"
        scene_gsd = gsd if gsd_range is None else draw_gsd(seed + i, *gsd_range)
        scene = render_scene(seed + i, (h, w), scene_gsd, style)
        p2 = to_parking_2(scene.mask)
        write_image(out / "images" / f"{name}.png", scene.image)
        atomic_write_text(out / "images" / f"{name}.pgw", world_file_text(scene_gsd, h))
        write_mask(out / "masks" / f"{name}.png", scene.mask)
        write_mask(out / "parking2" / f"{name}.png", p2)
        index["scenes"].append({
            "name": name, "image": f"images/{name}.png", "world_file": f"images/{name}.pgw",
            "mask": f"masks/{name}.png", "parking_mask": f"parking2/{name}.png",
            "seed": scene.seed, "gsd_m": scene.gsd_m, "size": [h, w],
            "parking_pixels": int(p2.sum()), "parking_area_m2": scene.parking_area_m2,
            "class_share": scene.meta["class_share"],
        })
        yield Progress(i + 1, total, f"{name}: {scene.parking_area_m2:.1f} m² parking", item=name)
    if drive_frames > 0:
        yield Progress(count, total, "rendering the drive")
        drive = render_drive(seed + count, drive_frames, (h, w), gsd, speed_px)
        areas = []
        for k, frame in enumerate(drive.frames):
            if token is not None:
                token.raise_if_cancelled()
            write_mask(out / "drive" / "masks" / f"frame_{k:05d}.png", frame.mask)
            write_mask(out / "drive" / "parking2" / f"frame_{k:05d}.png", to_parking_2(frame.mask))
            areas.append(frame.parking_area_m2)
            yield Progress(count + k + 1, total, f"drive frame {k}", item=f"frame_{k:05d}")
        write_drive_video(out / "drive.mp4", drive.frames, fps)
        index["drive"] = {
            "video": "drive.mp4", "masks": "drive/masks", "parking_masks": "drive/parking2",
            "frames": drive_frames, "fps": float(fps), "seed": seed + count, "gsd_m": float(gsd),
            "frame_size": [h, w], "speed_px": float(speed_px), "heading_deg": drive.heading_deg,
            "offsets_xy": [list(o) for o in drive.offsets], "parking_area_m2": areas,
            "mean_parking_area_m2": float(np.mean(areas)),
        }
    atomic_write_json(out / "scenes.json", index)
    return index
