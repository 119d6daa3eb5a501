"""`seggui infer --ray`: run the inference job's model calls on Ray workers (the `distributed` extra).

Kept apart from infer_cmd so the single-process path never imports Ray; the
outputs, resume and summary stay infer_cmd's own.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from seggui.core.errors import SegguiError


def run_on_ray(args: argparse.Namespace, predictor: Any, source: Any, outputs: Any) -> Any:
    """Start or join Ray, spread the frames over predictor workers, write with `outputs` here.

    Returns the job's `PipelineResult`, as `run_pipeline` would.
    """
    from seggui.cli.progress import run_with_progress

    try:
        from seggui.distributed.ray_infer import RayRun
    except ImportError as exc:
        raise SegguiError(f"--ray needs the distributed extra ({exc.name} is missing): "
                          "pip install 'seggui[distributed]'") from None
    load = {"backend": args.backend, "device": args.device, "threads": args.threads, "int8": args.int8,
            "batch_size": args.batch}
    pool = RayRun(predictor.card, load, address=args.ray, workers=args.workers)
    try:
        where = pool.start()
        print(f"Ray: {len(where)} worker(s): " + "; ".join(where), file=sys.stderr, flush=True)
        job = pool.run(source, outputs, start=args.start, stop=args.stop,
                       skip=None if args.no_resume else outputs.done, batch=args.batch,
                       confidence=args.confidence)
        return run_with_progress(job, "inference (ray)")
    finally:
        pool.close()
