"""`seggui serve` for real: the server in a subprocess on 127.0.0.1, spoken to with httpx (no mocks).

One server for the module (start-up loads torch and the model: seconds), with
small limits so the limit tests stay cheap; the SIGTERM test stops it, last.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

httpx = pytest.importorskip("httpx", reason="the serve extra is not installed: pip install 'seggui[serve]'")
pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install 'seggui[serve]'")
pytest.importorskip("uvicorn", reason="the serve extra is not installed: pip install 'seggui[serve]'")

# a real server in a subprocess per module (several seconds to start): out of `pytest -m "not slow"`
pytestmark = pytest.mark.slow

from bomb_files import png_bomb  # noqa: E402

from seggui.core.class_map import from_names, scoring_table, suggest  # noqa: E402
from seggui.core.classes import ClassTable  # noqa: E402
from seggui.core.confusion import ConfusionMatrix  # noqa: E402
from seggui.core.images import encode_png  # noqa: E402
from seggui.core.masks import read_mask  # noqa: E402
from seggui.core.metrics import compute_metrics  # noqa: E402
from seggui.core.synth.labels import to_parking_2  # noqa: E402
from seggui.core.synth.scene import render_scene  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-token-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_PIXELS = 2_000_000
MAX_UPLOAD_MB = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running `seggui serve` subprocess and a client for it."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url
        self.client = httpx.Client(base_url=url, timeout=120)

    def predict(self, image: bytes, token: bool = True, name: str = "pic.png", **fields: object
                ) -> httpx.Response:
        files: dict[str, tuple[str, bytes]] = {"image": (name, image)}
        if "truth" in fields:
            files["truth"] = ("truth.png", fields.pop("truth"))  # type: ignore[arg-type]
        return self.client.post("/predict", files=files, data={k: str(v) for k, v in fields.items()},
                                headers=AUTH if token else {})


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SEGGUI_MAX_PIXELS", "SEGGUI_SERVE_TOKEN")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seggui", "serve", "--model", "parking-demo", "--port", str(port),
         "--token", TOKEN, "--batch-wait-ms", "150", "--max-pixels", str(MAX_PIXELS),
         "--max-upload-mb", str(MAX_UPLOAD_MB), "--threads", "1"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            pytest.fail(f"seggui serve exited ({proc.returncode}): {proc.stderr.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("seggui serve did not answer /health within 180 s")
        time.sleep(0.3)
    srv = Server(proc, url)
    yield srv
    srv.client.close()
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def scene():  # type: ignore[no-untyped-def]
    """A generated aerial parking scene (exact ground truth), small enough to be quick."""
    return render_scene(3, size=(192, 256))


@pytest.fixture(scope="module")
def local_predictor():  # type: ignore[no-untyped-def]
    """The same model in this process, on the backend the server picks (auto)."""
    from seggui.engine.predictor import load_predictor

    with load_predictor("parking-demo", threads=1) as p:
        yield p


def png(arr: np.ndarray) -> bytes:
    return encode_png(arr)


def decode_png(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


# --------------------------------------------------------------------- the endpoints
def test_health_is_open_and_models_need_the_token(server: Server) -> None:
    health = server.client.get("/health").json()
    assert health["status"] == "ok" and health["models"] == ["parking-demo@2"]
    assert server.client.get("/models").status_code == 401
    models = server.client.get("/models", headers=AUTH).json()
    assert [m["ref"] for m in models] == ["parking-demo@2"]
    assert [c["name"] for c in models[0]["classes"]["classes"]] == ["background", "parking"]
    assert "onnx" in models[0]["backends"] and "torch" in models[0]["backends"]
    described = server.client.get("/openapi.json").json()
    assert {"/health", "/models", "/predict", "/area"} <= set(described["paths"])


def test_predict_png_is_the_in_process_mask(server: Server, scene, local_predictor) -> None:  # type: ignore[no-untyped-def]
    r = server.predict(png(scene.image))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png" and r.headers["x-seggui-model"] == "parking-demo@2"
    mask = decode_png(r.content)
    expected = local_predictor.predict(scene.image, confidence=False).labels
    assert mask.shape == scene.image.shape[:2]
    np.testing.assert_array_equal(mask, expected)


def test_predict_json_areas_with_a_gsd_field_and_from_geotiff_tags(server: Server, scene,  # type: ignore[no-untyped-def]
                                                                   local_predictor, tmp_path: Path) -> None:
    expected = local_predictor.predict(scene.image, confidence=False).labels
    counts = np.bincount(expected.ravel(), minlength=2)
    body = server.predict(png(scene.image), format="json", gsd=0.15).json()
    areas = {c["name"]: c for c in body["areas"]["classes"]}
    assert [areas["background"]["pixels"], areas["parking"]["pixels"]] == counts.tolist()
    assert areas["parking"]["m2"] == pytest.approx(counts[1] * 0.15 ** 2)
    assert body["iou"] is None and body["areas"]["gsd"]["source"] == "flag"

    import tifffile

    tif = tmp_path / "site.tif"
    tags = [(33550, "d", 3, (0.25, 0.25, 0.0), False),
            (33922, "d", 6, (0.0, 0.0, 0.0, 271000.0, 3290000.0, 0.0), False),
            (34735, "H", 8, (1, 1, 0, 1, 3076, 0, 1, 9001), False)]
    tifffile.imwrite(tif, scene.image, photometric="rgb", extratags=tags)
    body = server.predict(tif.read_bytes(), name="site.tif", format="json").json()
    areas = {c["name"]: c for c in body["areas"]["classes"]}
    assert body["areas"]["gsd"]["source"] == "geotiff"
    assert areas["parking"]["m2"] == pytest.approx(counts[1] * 0.0625)


def test_predict_iou_against_uploaded_truth(server: Server, scene, local_predictor) -> None:  # type: ignore[no-untyped-def]
    truth = to_parking_2(scene.mask).astype(np.uint8)
    body = server.predict(png(scene.image), format="json", truth=png(truth)).json()
    pred = local_predictor.predict(scene.image, confidence=False).labels
    table = local_predictor.card.classes
    want = compute_metrics(ConfusionMatrix.for_table(table).update(pred, truth), table).to_dict()
    assert body["iou"]["per_class_iou"] == pytest.approx(want["per_class_iou"])
    assert body["iou"]["miou"] == pytest.approx(want["miou"])
    assert body["iou"]["tp_px"]["parking"] > 0  # a real overlap was measured, not an empty one


def test_class_map_on_a_real_houston_picture(server: Server, houston: Path, local_predictor) -> None:  # type: ignore[no-untyped-def]
    image = cv2.imread(str(houston / "images" / "7677.jpg"))[::2, ::2]  # 375x500, real pixels
    gt_table = ClassTable.from_json(houston / "classes.json")
    truth = read_mask(houston / "masks" / "7677.png", gt_table)[::2, ::2]
    mapping = {"Vehicle": "parking", "Flooded": None}
    body = server.predict(cv2.imencode(".jpg", image)[1].tobytes(), name="7677.jpg", format="json",
                          truth=png(truth), truth_classes=json.dumps(gt_table.to_dict()),
                          class_map=json.dumps(mapping)).json()
    model = local_predictor.card.classes
    cmap = from_names(gt_table, model, mapping, None, suggest(gt_table, model))
    table = scoring_table(model) if cmap.needs_ignore else model
    pred = local_predictor.predict(cv2.cvtColor(cv2.imdecode(cv2.imencode(".jpg", image)[1], 1),
                                                cv2.COLOR_BGR2RGB), confidence=False).labels
    want = compute_metrics(ConfusionMatrix.for_table(table).update(pred, cmap.apply(truth, table)), table)
    assert body["iou"]["class_map"] == cmap.describe() and "Vehicle" in body["iou"]["class_map"]
    assert body["iou"]["per_class_iou"] == pytest.approx(want.to_dict()["per_class_iou"], nan_ok=True)
    assert body["iou"]["total_px"] == want.total_px < truth.size  # Flooded left unscored


def test_area_of_an_uploaded_mask(server: Server) -> None:
    mask = np.zeros((40, 50), np.uint8)
    mask[:10] = 1
    r = server.client.post("/area", files={"mask": ("m.png", png(mask))}, data={"gsd": "0.5"}, headers=AUTH)
    assert r.status_code == 200, r.text
    classes = {c["name"]: c for c in r.json()["classes"]}
    assert classes["parking"]["pixels"] == 500 and classes["parking"]["m2"] == pytest.approx(125.0)
    r = server.client.post("/area", files={"mask": ("m.png", png(mask))}, data={"classes": "camvid-11"},
                           headers=AUTH)
    assert {c["name"]: c["pixels"] for c in r.json()["classes"]}["Building"] == 500


def test_concurrent_requests_share_a_model_run(server: Server, scene) -> None:  # type: ignore[no-untyped-def]
    before = server.client.get("/health").json()
    results: list[httpx.Response] = []
    data = png(scene.image)

    def one() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            results.append(c.post("/predict", files={"image": ("p.png", data)}, headers=AUTH))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200] * 4
    after = server.client.get("/health").json()
    assert after["requests"] - before["requests"] == 4
    assert after["batches"] - before["batches"] < 4  # some requests were answered by one run
    assert max(int(r.headers["x-seggui-batch"]) for r in results) > 1


# --------------------------------------------------------------------- bad input
def test_bad_uploads_are_one_json_error_each_and_the_server_goes_on(server: Server, scene,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    good = png(scene.image)
    cases = [
        (server.predict(b"this is a text file, not a picture", name="notes.txt"), 422, "image (notes.txt)"),
        (server.predict(good[: len(good) // 2], name="cut.png"), 422, "truncated PNG"),
        (server.predict(good, format="json", truth=png(np.zeros((10, 10), np.uint8))), 422,
         "mask is 10x10 but the picture is 256x192"),
        (server.predict(good, model="no-such-model"), 404, "no model 'no-such-model'"),
        (server.predict(good, token=False), 401, "missing or wrong token"),
        (server.client.post("/predict", files={"image": ("p.png", good)},
                            headers={"Authorization": "Bearer wrong-token"}), 401, "missing or wrong token"),
        (server.predict(png_bomb(tmp_path / "bomb.png", 30000, 30000).read_bytes(), name="bomb.png"), 413,
         "30000x30000"),
        (server.predict(os.urandom(MAX_UPLOAD_MB * 1024 * 1024 + 10), name="big.png"), 413, "upload limit"),
        (server.predict(good, format="json", truth=png(np.full((192, 256), 7, np.uint8))), 422,
         "class ids not in the parking-2 table"),
        (server.predict(good, format="json", truth=good, truth_classes="camvid-11", class_map="{oops"), 422,
         "class_map: not valid JSON"),
        (server.predict(good, format="json", truth=good, truth_classes="/etc/passwd"), 422,
         "unknown class table '/etc/passwd'"),
        (server.predict(good, format="tiff"), 422, "format"),
        (server.predict(good, format="json", gsd="-1"), 422, "gsd: '-1' is not a positive number"),
        (server.client.get("/no-such-path", headers=AUTH), 404, "Not Found"),  # {"error"}, not {"detail"}
        (server.client.get("/predict", headers=AUTH), 405, "Method Not Allowed"),
        (server.client.post("/predict", data={"format": "png"}, headers=AUTH), 422, "image"),
        (server.client.post("/area", files={"mask": ("m.png", b"\x89PNG\r\n\x1a\nrubbish")}, headers=AUTH),
         422, "mask (m.png)"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, (words, response.text)
        assert words in response.json()["error"], response.text
    assert server.proc.poll() is None
    assert server.predict(good).status_code == 200  # still serving


def test_a_non_loopback_address_without_token_is_refused() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SEGGUI_SERVE_TOKEN"}
    out = subprocess.run([sys.executable, "-m", "seggui", "serve", "--host", "0.0.0.0", "--port",
                          str(free_port())], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "refusing to listen on 0.0.0.0 without a token" in out.stderr


# --------------------------------------------------------------------- last: stops the server
def test_sigterm_answers_the_request_in_flight_then_exits(server: Server) -> None:
    big = png(render_scene(5, size=(768, 1024)).image)
    answer: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answer.append(server.predict(big)))
    sender.start()
    deadline = time.monotonic() + 60
    while server.client.get("/health").json()["in_flight"] < 1:
        assert time.monotonic() < deadline and sender.is_alive(), "the request never showed as in flight"
        time.sleep(0.005)
    server.proc.send_signal(signal.SIGTERM)
    sender.join(120)
    assert answer and answer[0].status_code == 200
    assert decode_png(answer[0].content).shape == (768, 1024)
    assert server.proc.wait(60) == 0
    assert "stopped on SIGTERM" in server.proc.stderr.read()  # type: ignore[union-attr]
