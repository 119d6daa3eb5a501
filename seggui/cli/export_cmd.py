"""`seggui export-onnx`: ONNX (and int8) export of a model card, checked against torch."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-onnx", help="export a model card to ONNX (dynamic size), optionally int8",
        description="Export a model card to ONNX with dynamic batch/height/width and the card embedded "
        "in its metadata. The export is kept only if ONNX Runtime's labels agree with torch's on "
        ">= 99.9%% of the check pictures' pixels. OUT gets model.json (+ a copy of the weights when "
        "OUT is not the card's own folder), model.onnx and, with --int8, model.int8.onnx.",
    )
    p.add_argument("--model", required=True, help="a model name, name@version, card folder or model.json")
    p.add_argument("--out", required=True, help="output card folder (may be the card's own folder)")
    p.add_argument("--int8", action="store_true", help="also write an int8 model (static with --calib)")
    p.add_argument("--calib", metavar="DIR", help="calibration pictures for static int8 quantisation")
    p.add_argument("--check", metavar="DIR", help="pictures for the torch/ONNX agreement check "
                   "(default: --calib, else synthetic pictures)")
    p.add_argument("--check-masks", metavar="DIR", help="ground-truth masks of the --check pictures (same "
                   "file-name stems): with --int8, measures fp32's and int8's mIoU on them and keeps both in "
                   "the card; --backend auto then runs int8 on the CPU when it scores within 0.005 of fp32")
    p.add_argument("--check-count", type=int, default=8, help="pictures used for checks (default 8)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n / 1e6:.1f} MB"


def run(args: argparse.Namespace) -> int:
    from seggui.cli.progress import run_with_progress
    from seggui.core.atomic import check_writable
    from seggui.core.errors import BadInputError
    from seggui.engine.card import ModelCard, resolve_model
    from seggui.engine.export import INT8_TARGET_AGREEMENT, export_job

    if args.calib and not args.int8:
        raise BadInputError(None, "--calib is for int8 calibration; add --int8")
    if args.check_masks and not (args.int8 and args.check):
        raise BadInputError(None, "--check-masks scores int8 against fp32 on the --check pictures; "
                            "add --int8 and --check DIR")
    check_writable(args.out, folder=True)  # before the model loads
    card = resolve_model(args.model)
    job = export_job(
        card, args.out, opset=args.opset, int8=args.int8, calib_dir=args.calib, check_dir=args.check,
        check_count=max(1, args.check_count), threads=args.threads, truth_dir=args.check_masks,
    )
    report = run_with_progress(job, f"export {card.ref}", quiet=args.quiet)
    print(f"wrote {report.onnx_path} ({_mb(report.onnx_bytes)}), card {report.card_path}")
    print(f"ONNX Runtime vs torch: {report.agreement:.4%} of pixels agree on {report.check_source}")
    if report.int8_path is not None:
        speed = (report.fp32_ms or 0) / report.int8_ms if report.int8_ms else float("nan")
        print(f"int8 ({report.int8_mode}): {report.int8_path} ({_mb(report.int8_bytes)}, "
              f"{report.int8_bytes / report.onnx_bytes:.0%} of fp32)")  # type: ignore[operator]
        print(f"int8 speed: {report.int8_ms:.1f} ms vs fp32 {report.fp32_ms:.1f} ms per picture "
              f"({speed:.2f}x); agreement with fp32 {report.int8_agreement:.4%}")
        if report.int8_agreement is not None and report.int8_agreement < INT8_TARGET_AGREEMENT:
            hint = " (try --calib DIR for static quantisation)" if report.int8_mode == "dynamic" else ""
            print(f"warning: int8 agrees with fp32 on fewer than {INT8_TARGET_AGREEMENT:.0%} of pixels{hint}")
        if report.int8_miou is not None:
            chosen = "int8" if ModelCard.load(report.card_path).int8_as_good else "fp32"
            print(f"mIoU against {report.truth_pictures} masks from {report.truth_source}: fp32 "
                  f"{report.fp32_miou:.4f}, int8 {report.int8_miou:.4f}; "
                  f"--backend auto on a CPU runs {chosen}")
    for problem in report.skipped:
        print(f"warning: skipped {problem}")
    return 0
