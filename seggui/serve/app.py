"""The FastAPI application of `seggui serve`: routes, errors as JSON, the body limit.

Why FastAPI on uvicorn (rather than Flask): the requests of many clients wait
on one model worker at once (see `batching`), which an asyncio server does
without a thread per waiting client; FastAPI writes the OpenAPI description
(`/openapi.json`, `/docs`) from the route signatures, so the description
cannot drift from the code; uvicorn shuts down gracefully on SIGTERM.

Errors: 401 (token), 404 (unknown model), 413 (upload or picture over the
limits), 422 (a field that cannot be used: not an image, a truncated PNG, a
mask of another size ...), 500 (a fault of the server; it keeps serving).
Each is `{"error": "<one line naming the field and the problem>"}`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from seggui import __version__
from seggui.core.errors import BadInputError, SegguiError
from seggui.core.images import encode_png
from seggui.serve import work
from seggui.serve.batching import ModelWorker
from seggui.serve.limits import Limits, TooLarge, token_matches

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]


BEARER = HTTPBearer(auto_error=False, description="the server's --token")  # for the OpenAPI description


class UnknownModel(SegguiError):
    """A request names a model this server does not serve (HTTP 404)."""


class Unauthorised(SegguiError):
    """A missing or wrong bearer token (HTTP 401)."""


class BodyLimit:
    """ASGI wrapper: a request body over `limit` bytes gets 413 before the app reads any of it.

    A declared Content-Length over the limit is refused at once; a body sent
    without one (chunked) is read up to the limit and refused once over, so
    no request makes the server hold more than `limit` bytes of it.
    """

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_upload_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, {"error": self.limits.upload_message(int(declared))})
            return
        messages: list[Message] = []
        size = 0
        while True:
            msg = await receive()
            messages.append(msg)
            if msg["type"] != "http.request":
                break
            size += len(msg.get("body", b""))
            if size > limit:
                await _send_json(send, 413, {"error": self.limits.upload_message()})
                return
            if not msg.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _send_json(send: Callable[[Message], Awaitable[None]], status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


class State:
    """The served models and the counters /health reports."""

    def __init__(self, workers: dict[str, ModelWorker]) -> None:
        self.workers = workers
        self.in_flight = 0

    def pick(self, name: str | None) -> ModelWorker:
        """The worker of model `name` (a name or name@version); the only model when none is named."""
        if not name:
            if len(self.workers) == 1:
                return next(iter(self.workers.values()))
            raise BadInputError("model", f"this server has {len(self.workers)} models: name one "
                                f"({', '.join(self.refs())})")
        for w in self.workers.values():
            if name in (w.predictor.card.name, w.predictor.card.ref):
                return w
        raise UnknownModel(f"model: no model {name!r} on this server (it serves {', '.join(self.refs())})")

    def refs(self) -> list[str]:
        return [w.predictor.card.ref for w in self.workers.values()]


def create_app(workers: dict[str, ModelWorker], limits: Limits, token: str | None = None) -> ASGIApp:
    """The ASGI application over loaded model workers (closed when the server stops)."""
    state = State(workers)

    async def authorised(request: Request, _: Annotated[HTTPAuthorizationCredentials | None,
                                                        Depends(BEARER)]) -> None:
        if token is not None and not token_matches(request.headers.get("authorization"), token):
            raise Unauthorised("missing or wrong token: send the header 'Authorization: Bearer <token>'")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        for w in workers.values():  # queued requests finish first
            await run_in_threadpool(w.close)

    app = FastAPI(title="seggui", version=__version__, lifespan=lifespan,
                  description="Segmentation models behind HTTP: index masks, areas in m², IoU against "
                              "ground truth. See the README's `seggui serve` section.")

    def error(status: int, exc: Exception) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": str(exc)}, status_code=status, headers=headers)

    @app.exception_handler(BadInputError)
    async def bad_input(_: Request, exc: BadInputError) -> JSONResponse:
        return error(422, exc)

    @app.exception_handler(TooLarge)
    async def too_large(_: Request, exc: TooLarge) -> JSONResponse:
        return error(413, exc)

    @app.exception_handler(UnknownModel)
    async def unknown(_: Request, exc: UnknownModel) -> JSONResponse:
        return error(404, exc)

    @app.exception_handler(Unauthorised)
    async def unauthorised(_: Request, exc: Unauthorised) -> JSONResponse:
        return error(401, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # an unknown path (404) or method (405): the same {"error": ...} as every other error
        return JSONResponse({"error": f"{exc.detail}"}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
                 for e in exc.errors()]
        return JSONResponse({"error": "; ".join(parts) or "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error ({type(exc).__name__}: {exc}); the server goes on"},
                            status_code=500)

    @app.get("/health", summary="Whether the server is up, its models and request counters")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "models": state.refs(),
                "requests": sum(w.requests for w in workers.values()),
                "batches": sum(w.batches for w in workers.values()), "in_flight": state.in_flight}

    @app.get("/models", summary="The served model cards: classes, backends, where each runs",
             dependencies=[Depends(authorised)])
    async def models() -> list[dict[str, Any]]:
        return [work.model_info(w.predictor.card, w.predictor.describe()) for w in workers.values()]

    @app.post("/predict", dependencies=[Depends(authorised)],
              summary="Segment one picture: the index mask as PNG, or areas (and IoU) as JSON",
              responses={200: {"content": {"image/png": {}, "application/json": {}}}})
    async def predict(
        image: Annotated[UploadFile, File(description="the picture (PNG, JPEG, TIFF/GeoTIFF, BMP, WebP)")],
        model: Annotated[str | None, Form(description="model name or name@version (optional with one "
                                                      "model)")] = None,
        format: Annotated[str, Form(description="png: the index mask; json: areas, and IoU with "
                                                "truth")] = "png",
        gsd: Annotated[str | None, Form(description="metres per pixel (else the GeoTIFF's own tags)")] = None,
        truth: Annotated[UploadFile | None, File(description="ground-truth mask of the same size "
                                                             "(json)")] = None,
        truth_classes: Annotated[str | None, Form(description="the truth's class table: a preset name or "
                                                  "JSON; without it the truth is in the model's "
                                                  "classes")] = None,
        class_map: Annotated[str | None, Form(description='JSON {"truth class": "model class" or null}; '
                                              "classes it does not name are matched by name")] = None,
    ) -> Response:
        state.in_flight += 1
        try:
            return await _predict(state.pick(model), image, format, gsd, truth, truth_classes, class_map)
        finally:
            state.in_flight -= 1

    async def _predict(worker: ModelWorker, image: UploadFile, fmt: str, gsd_text: str | None,
                       truth: UploadFile | None, truth_classes: str | None,
                       class_map: str | None) -> Response:
        fmt = fmt.strip().lower()
        if fmt not in ("png", "json"):
            raise BadInputError("format", f"{fmt!r} is not a format: use png or json")
        if fmt == "png" and (truth is not None or gsd_text or class_map):
            raise BadInputError("format", "truth, gsd and class_map give figures: ask for format=json")
        if class_map and truth_classes is None:
            raise BadInputError("class_map", "a class map needs truth_classes (the truth's class table)")
        predictor = worker.predictor
        table = predictor.card.classes
        up = work.Upload("image", image.filename, await image.read())
        truth_up = work.Upload("truth", truth.filename, await truth.read()) if truth is not None else None

        def before() -> tuple[Any, Any, Any, Any]:
            rgb = work.read_picture(up, limits)
            gt_table = work.parse_classes(truth_classes, "truth_classes") if truth_classes else table
            cmap = work.parse_map(class_map, gt_table, table) if truth_classes else None
            gt = (work.read_truth(truth_up, gt_table, limits, rgb.shape[:2]) if truth_up is not None
                  else None)
            gsd = work.parse_gsd(gsd_text) if fmt == "json" else None
            if fmt == "json" and gsd is None:
                gsd = work.picture_gsd(up)
            return predictor.prepare(rgb), gt, cmap, gsd

        prepared, gt, cmap, gsd = await run_in_threadpool(before)
        served = await asyncio.wrap_future(worker.submit(prepared))
        labels = served.prediction.labels
        headers = {"X-Seggui-Model": predictor.card.ref, "X-Seggui-Batch": str(served.batch)}
        if fmt == "png":
            body = await run_in_threadpool(encode_png, labels)
            return Response(body, media_type="image/png", headers=headers)

        def figures() -> dict[str, Any]:
            return {"model": predictor.card.ref, "device": predictor.describe(), "width": labels.shape[1],
                    "height": labels.shape[0], "batch": served.batch,
                    "areas": work.area_report(labels, table, gsd),
                    "iou": work.iou_report(labels, gt, table, cmap) if gt is not None else None}

        return JSONResponse(await run_in_threadpool(figures), headers=headers)

    @app.post("/area", dependencies=[Depends(authorised)],
              summary="Per-class pixels, m² and percentages of an index (or colour) mask")
    async def area(
        mask: Annotated[UploadFile, File(description="an index mask PNG (or a colour mask in the table's "
                                                     "colours)")],
        classes: Annotated[str | None, Form(description="class table: a preset name or JSON (default: "
                                                        "the model's)")] = None,
        model: Annotated[str | None, Form(description="take the class table of this served model")] = None,
        gsd: Annotated[str | None, Form(description="metres per pixel (else the mask's own GeoTIFF "
                                                    "tags)")] = None,
    ) -> dict[str, Any]:
        state.in_flight += 1
        try:
            table = work.parse_classes(classes) if classes else state.pick(model).predictor.card.classes
            up = work.Upload("mask", mask.filename, await mask.read())

            def measure() -> dict[str, Any]:
                labels = work.read_truth(up, table, limits, None)
                return work.area_report(labels, table, work.parse_gsd(gsd) or work.picture_gsd(up))

            return await run_in_threadpool(measure)
        finally:
            state.in_flight -= 1

    return BodyLimit(app, limits)  # type: ignore[arg-type]
