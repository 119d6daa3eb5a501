"""`seggui infer SOURCE --model M`: predict a picture, a folder, a sequence or a video."""

from __future__ import annotations

import argparse
import json
import sys

from seggui.cli.argtypes import positive_int
from seggui.core.errors import SegguiError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "infer",
        help="run a model on a picture, folder, image sequence or video; write index masks",
        description="Writes OUT/masks/FRAME.png (index masks), optionally confidence PNGs, an overlay "
        "video, and OUT/areas.csv (per-frame area per class; m² when a GSD is known from --gsd or the "
        "pictures' georeferencing). A stopped run resumes: frames already written are skipped; OUT "
        "records the model, and a run with another model there is refused unless --overwrite.",
    )
    p.add_argument("source", help="picture, folder of pictures, or video (mp4, avi, mkv, mov)")
    p.add_argument("--model", required=True,
                   help="model name (see `seggui models`), card folder or model.json")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--int8", action="store_true", help="use the card's int8 ONNX model")
    p.add_argument("--out", default="seggui-out", help="output folder (default ./seggui-out)")
    p.add_argument("--pattern", help="in a folder, only files matching this glob (e.g. '0016E5_*')")
    p.add_argument("--batch", type=positive_int, help="frames per backend call (default 1 on CPU, 4 on GPU)")
    p.add_argument("--threads", type=int, help="CPU threads for the backend")
    p.add_argument("--confidence", action="store_true", help="also write confidence PNGs (x255)")
    p.add_argument("--overlay-video", help="write an overlay video here (.mp4 or .avi)")
    p.add_argument("--gsd", type=float, help="metres per pixel for the area CSV")
    p.add_argument("--start", type=int, default=0, help="first frame index")
    p.add_argument("--stop", type=int, help="stop before this frame index")
    p.add_argument("--no-resume", action="store_true", help="redo frames whose mask already exists")
    p.add_argument("--bands", help="GeoTIFF bands shown to the model as R,G,B (e.g. 4,1,2; default: RGB "
                                   "from the colour interpretation, else 1,2,3)")
    p.add_argument("--cog", action="store_true", help="write a GeoTIFF mask as a Cloud Optimized GeoTIFF")
    p.add_argument("--block", type=positive_int, help="orthomosaic block side in px (default 4096; memory "
                                                      "grows with it)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="spread the model runs over Ray workers (the distributed extra): alone, a local Ray; "
                        "with ADDRESS (HOST:PORT or auto), the cluster there. Same outputs as without")
    p.add_argument("--workers", type=positive_int,
                   help="with --ray: predictor workers (default one per GPU, else CPUs / --threads)")
    p.add_argument("--overwrite", action="store_true",
                   help="OUT holds another model's masks (or options'): remove them and redo every frame "
                        "(without it such a folder is refused, so a resume never mixes two models)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seggui.cli.ortho_infer import is_orthomosaic, run_ortho
    from seggui.cli.progress import run_with_progress
    from seggui.core.atomic import check_writable
    from seggui.core.gsd import Gsd, find_gsd
    from seggui.core.masks import read_mask
    from seggui.core.media import open_source
    from seggui.core.outputs import FolderOutputs
    from seggui.core.overlay_video import write_overlay_video
    from seggui.core.run_record import claim_output
    from seggui.engine.identity import run_identity
    from seggui.engine.pipeline import run_pipeline
    from seggui.engine.predictor import load_predictor

    if is_orthomosaic(args.source):  # a georeferenced GeoTIFF: a GeoTIFF mask on its grid
        if getattr(args, "ray", None) is not None:
            raise SegguiError(f"{args.source}: --ray runs pictures, folders, sequences and videos; a "
                              "georeferenced orthomosaic runs without it (block by block on this machine)")
        return run_ortho(args)
    check_writable(args.out, folder=True)  # before the model loads: a bad --out costs a second
    if args.overlay_video:
        check_writable(args.overlay_video)
    source = open_source(args.source, pattern=args.pattern)
    if source.warning:
        print(f"warning: {source.warning}", file=sys.stderr)
    predictor = load_predictor(args.model, args.backend, args.device, args.threads, int8=args.int8,
                               batch_size=args.batch)
    table = predictor.card.classes
    print(f"{predictor.card.ref} on {predictor.describe()}: {len(source)} frame(s) of {source.path}",
          file=sys.stderr)
    claimed = claim_output(args.out, run_identity(predictor), args.overwrite)  # refuses another model's
    if claimed == "overwrite":
        print(f"--overwrite: removed the earlier model's masks from {args.out}", file=sys.stderr)
    outputs = FolderOutputs(args.out, table, args.confidence)
    with predictor:
        if getattr(args, "ray", None) is not None:  # the same job, its model runs on Ray workers
            from seggui.cli.ray_run import run_on_ray

            result = run_on_ray(args, predictor, source, outputs)
        else:
            result = run_with_progress(
                run_pipeline(predictor, source, outputs, start=args.start, stop=args.stop,
                             skip=None if args.no_resume else outputs.done,
                             confidence=args.confidence),  # softmax maxima cost a third of the time
                "inference",
            )
    flag = Gsd.square(args.gsd) if args.gsd is not None else None
    frame_paths = {source.name(i): source.frame_path(i) for i in source.span(args.start, args.stop)}

    def gsd_of(fid: str) -> Gsd | None:
        if flag is not None:
            return flag
        pic = frame_paths.get(fid)
        return find_gsd(pic) if pic is not None else None

    ids = [source.name(i) for i in source.span(args.start, args.stop)]
    csv_path = outputs.write_area_csv(ids, gsd_of)
    if args.overlay_video:
        def mask_of(i: int):
            p = outputs.mask_path(source.name(i))
            return read_mask(p) if p.exists() else None

        run_with_progress(write_overlay_video(source, mask_of, table, args.overlay_video), "overlay video")
    summary = {
        "model": predictor.card.ref, "device": predictor.describe(), "written": len(result.written),
        "skipped_as_done": len(result.skipped), "failed": [{"frame": source.name(i), "error": e}
                                                           for i, e in result.failed],
        "fps": round(result.fps, 2), "masks": str(outputs.masks), "areas_csv": str(csv_path),
        "overlay_video": args.overlay_video,
    }
    print(json.dumps(summary, indent=2))
    source.close()
    if result.failed and not result.written and not result.skipped:
        return 2
    # a damaged video (cut short) or left-out pictures were warned about above: the run is partial
    return 1 if result.failed or source.warning else 0


