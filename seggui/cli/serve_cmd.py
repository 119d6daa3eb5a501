"""`seggui serve`: the models behind an HTTP API (needs the `serve` extra: FastAPI, uvicorn)."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from seggui.cli.argtypes import positive_int
from seggui.core.errors import SegguiError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve models over HTTP: masks, areas and IoU for uploaded pictures",
        description="Starts an HTTP server (FastAPI on uvicorn) with GET /health, GET /models, POST /predict "
        "and POST /area; the OpenAPI description is at /openapi.json and /docs. Models load once and stay "
        "warm; concurrent requests on one model share backend runs. Listening beyond 127.0.0.1 needs "
        "--token. SIGTERM or Ctrl+C finishes the requests in flight, then stops. Needs the extra: "
        "pip install 'seggui[serve]'.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--model", action="append", metavar="CARD",
                   help="a model to serve (name, card folder or model.json); repeat for several "
                        "(default: every card `seggui models` lists)")
    p.add_argument("--token", help="bearer token clients must send (default: $SEGGUI_SERVE_TOKEN); "
                                   "required on any address other than loopback")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--threads", type=int, help="CPU threads per model backend")
    p.add_argument("--batch", type=positive_int,
                   help="pictures per backend call (default 1 on CPU, 4 on GPU)")
    p.add_argument("--max-batch", type=positive_int, default=8,
                   help="concurrent requests gathered into one model run (default 8)")
    p.add_argument("--batch-wait-ms", type=float, default=5.0,
                   help="how long a request waits for others to share its run (default 5 ms)")
    p.add_argument("--max-upload-mb", type=float, default=64.0, help="request body limit (default 64 MiB)")
    p.add_argument("--max-pixels", type=positive_int, default=50_000_000,
                   help="largest picture or mask, width x height (default 50 megapixels)")
    p.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"),
                   help="uvicorn's log level (info logs every request)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seggui.serve.limits import TOKEN_ENV, Limits, check_listen

    token = args.token if args.token is not None else (os.environ.get(TOKEN_ENV) or None)
    check_listen(args.host, token)  # before anything loads: a refused address costs nothing
    if not 1 <= args.port <= 65535:
        raise SegguiError(f"--port {args.port} is not a port (1 to 65535)")
    if args.max_upload_mb <= 0 or args.batch_wait_ms < 0:
        raise SegguiError("--max-upload-mb must be positive and --batch-wait-ms not negative")
    try:
        import uvicorn

        from seggui.serve.app import create_app
    except ImportError as exc:
        raise SegguiError(f"seggui serve needs the serve extra ({exc.name} is missing): "
                          "pip install 'seggui[serve]'") from None
    from seggui.engine.card import find_models
    from seggui.engine.predictor import load_predictor
    from seggui.serve.batching import ModelWorker

    refs = args.model
    if not refs:
        cards, _problems = find_models()
        refs = [c.folder for c in cards if c.folder is not None]
        if not refs:
            raise SegguiError("no model to serve: give --model, or put a card where `seggui models` finds it")
    limits = Limits(int(args.max_upload_mb * 1024 * 1024), args.max_pixels)
    workers: dict[str, ModelWorker] = {}
    try:
        for ref in refs:
            predictor = load_predictor(ref, args.backend, args.device, args.threads, batch_size=args.batch)
            if predictor.card.ref in workers:
                predictor.close()
                continue
            workers[predictor.card.ref] = ModelWorker(predictor, args.max_batch, args.batch_wait_ms / 1000)
            print(f"loaded {predictor.card.ref} on {predictor.describe()}", file=sys.stderr)
    except BaseException:
        for w in workers.values():
            w.close()
        raise
    app = create_app(workers, limits, token)
    print(f"seggui serve: http://{args.host}:{args.port} ({len(workers)} model(s); API description at "
          f"/docs){'; token required' if token else ''}", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                            timeout_graceful_shutdown=30, lifespan="on")
    server = uvicorn.Server(config)
    # uvicorn answers SIGTERM / Ctrl+C by finishing the requests in flight, then raises the signal
    # again with the handlers it found; handlers that only note it make that a clean exit (status 0).
    stops: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda num, _frame: stops.append(num))
    server.run()
    print(f"seggui serve: stopped{' on ' + signal.Signals(stops[0]).name if stops else ''}",
          file=sys.stderr, flush=True)
    return 0 if server.started else 2
