"""`seggui synth --out DIR`: generate synthetic aerial parking scenes with exact ground truth."""

from __future__ import annotations

import argparse
import re

from seggui.core.errors import BadInputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="generate synthetic aerial parking scenes (and a drive video) with exact masks",
        description="Write images/, masks/ (aerial-parking-6), parking2/ (parking-2), a world file "
                    "per image and scenes.json with each scene's seed, GSD and exact parking area.",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--count", type=int, default=12, help="number of scenes (default 12)")
    p.add_argument("--size", nargs="+", default=["512", "512"], metavar="N",
                   help="picture size: H W, or WxH (default 512 512)")
    p.add_argument("--gsd", type=float, default=0.15, help="metres per pixel (default 0.15)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first scene (default 0)")
    p.add_argument("--style", choices=("default", "varied"), default="default",
                   help="default: the generator's one look; varied: domain randomisation (pavement, "
                        "markings, cars, shade, light, camera drawn widely) for models meant for real "
                        "pictures")
    p.add_argument("--gsd-range", type=float, nargs=2, metavar=("LO", "HI"), default=None,
                   help="draw each scene's GSD log-uniformly in [LO, HI] m/px (e.g. 0.05 0.3) "
                        "instead of --gsd")
    p.add_argument("--drive-frames", type=int, default=0,
                   help="also write drive.mp4 with this many frames and their masks (default 0: none)")
    p.add_argument("--fps", type=float, default=10.0, help="drive video frame rate (default 10)")
    p.add_argument("--speed", type=float, default=8.0, help="drive speed in pixels per frame (default 8)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def parse_size(values: list[str]) -> tuple[int, int]:
    """(height, width) from `H W`, `WxH` or a single `N` (square)."""
    text = " ".join(values).strip()
    m = re.fullmatch(r"(\d+)\s*[xX]\s*(\d+)", text)
    if m:
        return int(m.group(2)), int(m.group(1))
    parts = text.split()
    if len(parts) in (1, 2) and all(p.isdigit() for p in parts):
        return (int(parts[0]), int(parts[-1]))
    raise BadInputError(None, f"--size must be H W or WxH, got {text!r}")


def run(args: argparse.Namespace) -> int:
    from seggui.cli.progress import run_with_progress
    from seggui.core.synth.dataset import write_scenes

    if args.count < 0 or args.drive_frames < 0:
        raise BadInputError(None, "--count and --drive-frames must not be negative")
    size = parse_size(args.size)
    job = write_scenes(args.out, args.count, size, args.gsd, args.seed, args.drive_frames, args.fps,
                       args.speed, style=args.style,
                       gsd_range=tuple(args.gsd_range) if args.gsd_range else None)
    index = run_with_progress(job, "synth", quiet=args.quiet)
    for s in index["scenes"]:
        print(f"{s['name']}  seed {s['seed']:6d}  parking {s['parking_area_m2']:9.2f} m²"
              f"  ({100 * s['parking_pixels'] / (size[0] * size[1]):.1f} % of the picture)"
              + (f"  {s['gsd_m']:.3f} m/px" if args.gsd_range else ""))
    drive = index.get("drive")
    if drive:
        print(f"drive.mp4  {drive['frames']} frames  mean parking {drive['mean_parking_area_m2']:.2f} m²")
    at = f"{args.gsd_range[0]}-{args.gsd_range[1]}" if args.gsd_range else f"{args.gsd}"
    print(f"wrote {len(index['scenes'])} scenes ({args.style} style) at {at} m/px to {args.out} "
          "(index: scenes.json)")
    return 0
