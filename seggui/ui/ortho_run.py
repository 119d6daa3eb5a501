"""Model ▸ Run on an orthomosaic: `seggui.engine.ortho.predict_ortho` as a background job of the window.

The frame-by-frame prediction decodes each picture whole, which an
orthomosaic must never be. So Run on an orthomosaic (its frame or one of its
regions) predicts the whole file by blocks, in bounded memory and resumably,
into the workspace's `ortho/<name>.predicted.tif`, the file the tiles and
the regions read; a run over every frame predicts the other frames as before
and leaves the orthomosaic to Run on its own picture (said in Messages).
When the job ends, the tiles are read again and the regions that hold no
correction take the new prediction's window.
"""

from __future__ import annotations

from typing import Any

from seggui.core.errors import BadInputError
from seggui.core.frame_record import FrameStatus
from seggui.core.geo.bands import saved_bands
from seggui.core.geo.ortho_region import OrthoFiles, is_orthomosaic, refresh_regions
from seggui.core.jobs import CancelToken, Job, Progress, every, map_progress


def _job(card: Any, predictor: Any, source: Any, out: Any, bands: Any, token: CancelToken) -> Job[Any]:
    from seggui.engine.ortho import predict_ortho

    if predictor is None:
        yield Progress(0, 1, f"loading {card.name}…")
        from seggui.engine.predictor import load_predictor  # torch/ORT load here, off the GUI thread

        predictor = load_predictor(card)
        # handed to the window's inference, as a frame run does: the status bar names the backend
        yield Progress(0, 1, predictor.describe(), data={"predictor": predictor, "card": card.ref})
    job = predict_ortho(predictor, source, out, bands=bands, token=token)
    return (yield from map_progress(job, every(0.1)))


def run_model(view: Any, scope: str, inference: Any) -> bool | None:
    """Run on an orthomosaic (True: started, False: not); None when the normal run applies.

    `view` is the window's `OrthoView`. Scope "current" on an orthomosaic's
    frame or region predicts the orthomosaic; "all" predicts every other
    frame and says how to predict the orthomosaics.
    """
    s = view.session
    ws = s.workspace
    if ws is None:
        return None
    orthos = [fid for fid in ws.frames if is_orthomosaic(ws.image_path(fid))]
    if not orthos:
        return None
    if scope != "current":
        others = [fid for fid in ws.frames if fid not in orthos]
        s.log.info(f"{', '.join(orthos)}: an orthomosaic is predicted by blocks with Run on its own "
                   "picture (Model ▸ Run on this picture); the other frames are predicted now")
        return inference.run("frames", others) if others else False
    o = view.ortho
    if o is None:
        return None
    ws.check_writable()
    if inference.card is None:
        raise BadInputError(None, "choose a model first (Model ▸ Open model card…)")
    if inference.runner.is_running():
        raise BadInputError(None, f"{inference.runner.title} is still running; wait or cancel it")
    if not inference.use_model_classes():
        return False
    card, predictor, files = inference.card, inference.predictor, OrthoFiles(ws.root, o.source)
    source, bands = o.source, saved_bands(ws, o.source)  # the bands the window shows (View ▸ Bands…)
    handle = inference.runner.start(f"Predicting {source.name}",
                                    lambda tok: _job(card, predictor, source, files.predicted, bands, tok))
    if handle is None:
        return False
    handle.progress.connect(inference.take_predictor)

    def finished(result: Any) -> None:
        if s.workspace is not ws:
            return
        rec = ws.frames.get(o.frame)  # the list, the Retrain panel and exports read who predicted it
        if rec is not None:
            rec.model = card.ref
            if rec.status == FrameStatus.NONE:
                ws.set_status(o.frame, FrameStatus.PREDICTED)
            else:
                ws.save()
        done = refresh_regions(ws, o.source)
        if view.layer is not None:
            view.layer.tiles.clear()
            view.layer.update()
        s.log.info(f"{o.source.name}: {result.written} block(s) predicted in {result.seconds:.0f} s "
                   f"into {files.predicted.name}" + (f"; {len(done)} region(s) updated" if done else "")
                   + "".join(f"; {n}" for n in result.notes))
        for block, error in result.failed:
            s.log.error(f"{o.source.name}: {block}: {error}")

    handle.result.connect(finished)
    return True
