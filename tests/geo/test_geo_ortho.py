"""Orthomosaic inference: GeoTIFF in, mask GeoTIFF out on the same grid, resumable, bad input named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seggui.cli import main
from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, run_job
from seggui.core.synth.geotiff import GEOGRAPHIC, UTM, write_geotiff
from seggui.engine.ortho import predict_ortho
from seggui.engine.predictor import load_predictor


@pytest.fixture(scope="module")
def predictor(tiny_model: Path):
    with load_predictor(tiny_model, "onnx", "cpu") as p:
        yield p


def _read(path: Path):
    import rasterio

    with rasterio.open(path) as ds:
        return ds.read(1), ds.profile, ds.colormap(1), ds.crs, ds.transform, ds.overviews(1)


def test_infer_writes_a_georeferenced_mask(tmp_path: Path, scene, tiny_model: Path, predictor,
                                           capsys) -> None:
    made = write_geotiff(tmp_path / "ortho.tif", scene.image, scene.mask, 0.15, crs=UTM, nodata_border=6)
    out = tmp_path / "out"
    code = main(["infer", made["path"], "--model", str(tiny_model), "--out", str(out), "--backend", "onnx",
                 "--device", "cpu", "--block", "128"])
    assert code == 0
    mask, profile, cmap, crs, transform, _ = _read(out / "masks" / "ortho.tif")
    assert crs.to_epsg() == 32633 and tuple(transform)[:6] == made["transform"]
    assert profile["tiled"] and profile["compress"] == "deflate" and profile["nodata"] == 255
    assert cmap[1][:3] == predictor.card.classes.by_id[1].color
    # a 1x1-convolution model: blocks, halos and tiles must give the whole-picture labels exactly
    whole = predictor.predict(scene.image, confidence=False, tile=False).labels
    inside = made["mask"] != 255
    assert np.array_equal(mask[inside], whole[inside])
    assert (mask[~inside] == 255).all()
    assert not list((out / "masks").glob("*.partial.tif")) and not list((out / "masks").glob("*.json"))
    areas = (out / "areas.json").read_text(encoding="utf-8")
    assert "EPSG:32633" in areas and "planar" in areas
    # a plain picture keeps the PNG path
    import cv2

    cv2.imwrite(str(tmp_path / "plain.png"), scene.image[..., ::-1])
    assert main(["infer", str(tmp_path / "plain.png"), "--model", str(tiny_model), "--out",
                 str(tmp_path / "png"), "--backend", "onnx", "--device", "cpu"]) == 0
    assert (tmp_path / "png" / "masks" / "plain.png").is_file()


def test_no_crs_asks_for_the_gsd(tmp_path: Path, scene, tiny_model: Path, capsys) -> None:
    import json

    made = write_geotiff(tmp_path / "bare.tif", scene.image, scene.mask, 0.15, with_crs=False)
    base = ["infer", made["path"], "--model", str(tiny_model), "--backend", "onnx", "--device", "cpu"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert "no CRS" in summary["areas"] and "--gsd" in summary["areas"]
    assert (tmp_path / "a" / "masks" / "bare.tif").is_file() and not (tmp_path / "a" / "areas.json").exists()
    assert main([*base, "--out", str(tmp_path / "b"), "--gsd", "0.15"]) == 0
    areas = json.loads((tmp_path / "b" / "areas.json").read_text(encoding="utf-8"))
    assert "given by the user" in areas["area_method"]
    px = sum(c["pixels"] for c in areas["classes"].values())
    assert px == scene.mask.size
    total = sum(c["m2"] for c in areas["classes"].values())
    assert total == pytest.approx(scene.mask.size * 0.0225, rel=1e-6)


def test_resume_by_block_and_cog(tmp_path: Path, scene, predictor) -> None:
    made = write_geotiff(tmp_path / "o.tif", scene.image, scene.mask, 0.15, crs=GEOGRAPHIC, tiled=False)
    out = tmp_path / "masks" / "o.tif"
    token = CancelToken()
    job = predict_ortho(predictor, made["path"], out, block=128, token=token)
    next(job)  # start
    next(job)  # first block written
    token.cancel()
    with pytest.raises(Exception, match="cancel"):
        run_job(job)
    assert not out.exists() and (tmp_path / "masks" / "o.partial.tif").is_file()
    again = run_job(predict_ortho(predictor, made["path"], out, block=128, cog=True))
    assert again.skipped == 1 and again.written == again.blocks - 1 and again.mask == out
    done = run_job(predict_ortho(predictor, made["path"], out, block=128))  # finished: nothing redone
    assert (done.skipped, done.written, done.mask) == (again.blocks, 0, out)
    fresh = run_job(predict_ortho(predictor, made["path"], tmp_path / "fresh.tif", block=128))
    assert np.array_equal(_read(out)[0], _read(fresh.mask)[0])
    import rasterio

    with rasterio.open(out) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG" and ds.crs.to_epsg() == 4326


def test_band_choice_rgbn_16_bit(tmp_path: Path, scene, predictor) -> None:
    made = write_geotiff(tmp_path / "n.tif", scene.image, scene.mask, 0.15, nir=True, bits=16)
    rgb = run_job(predict_ortho(predictor, made["path"], tmp_path / "rgb.tif"))
    false_colour = run_job(predict_ortho(predictor, made["path"], tmp_path / "nrg.tif", bands=(4, 1, 2)))
    a, b = _read(rgb.mask)[0], _read(false_colour.mask)[0]
    whole = predictor.predict(scene.image, confidence=False, tile=False).labels
    assert (a == whole).mean() > 0.9  # the 16-bit stretch keeps the picture's look
    assert (a != b).mean() > 0.05  # NIR as red changes what the model sees


def test_deepness_resolution_resamples_and_returns_to_the_grid(tmp_path: Path, scene) -> None:
    from geo_helpers import tiny_onnx

    model = tiny_onnx(tmp_path / "deep.onnx", resolution_cm=30.0, tiles_size=64, overlap_pct=25)
    made = write_geotiff(tmp_path / "d.tif", scene.image, scene.mask, 0.15)
    with load_predictor(model, "onnx", "cpu") as p:
        card = p.card
        assert (card.input.tile_size, card.input.tile_overlap, card.input.mean) == (64, 16, (0.5, 0.5, 0.5))
        assert card.extra["resolution_cm"] == 30.0 and card.classes.names[1] == "parking"
        res = run_job(predict_ortho(p, made["path"], tmp_path / "m.tif"))
        whole = p.predict(scene.image, confidence=False, tile=False).labels
    assert res.scale == pytest.approx(0.5) and "30.0 cm/px" in res.notes[0]
    mask = _read(res.mask)[0]
    assert mask.shape == scene.mask.shape
    assert (mask == whole).mean() > 0.85  # half the resolution, brought back to the source grid


def test_a_finer_model_resolution_upsamples_in_smaller_blocks(tmp_path: Path, scene) -> None:
    from geo_helpers import tiny_onnx

    model = tiny_onnx(tmp_path / "fine.onnx", resolution_cm=7.5, tiles_size=64)
    made = write_geotiff(tmp_path / "f.tif", scene.image, scene.mask, 0.15)
    with load_predictor(model, "onnx", "cpu") as p:
        res = run_job(predict_ortho(p, made["path"], tmp_path / "f-mask.tif", block=256))
        whole = p.predict(scene.image, confidence=False, tile=False).labels
    assert res.scale == pytest.approx(2.0) and res.blocks == 2 * 3  # 128-px blocks: 256 / 2
    mask = _read(res.mask)[0]
    assert mask.shape == scene.mask.shape and (mask == whole).mean() > 0.95


def test_deepness_metadata_errors_name_the_file(tmp_path: Path) -> None:
    from geo_helpers import tiny_onnx

    from seggui.engine.card import resolve_model

    bad = tiny_onnx(tmp_path / "det.onnx", meta={"model_type": "Detector"})
    with pytest.raises(BadInputError, match="Segmentor") as err:
        resolve_model(bad)
    assert err.value.path.name == "det.onnx"
    gap = tiny_onnx(tmp_path / "gap.onnx", meta={"class_names": {"0": "a", "2": "b"}})
    with pytest.raises(BadInputError, match="run 0..1"):
        resolve_model(gap)


def test_bad_orthomosaics_are_named_and_leave_nothing(tmp_path: Path, scene, predictor) -> None:
    made = write_geotiff(tmp_path / "empty.tif", scene.image, scene.mask, 0.15, nodata_border=120)
    with pytest.raises(BadInputError, match="every pixel is nodata") as err:
        run_job(predict_ortho(predictor, made["path"], tmp_path / "out" / "e.tif"))
    assert err.value.path.name == "empty.tif" and not list((tmp_path / "out").glob("*"))
    # a corrupt tile: its block is reported, the others processed, no final mask until a rerun
    from seggui.core.synth import render_scene

    big = render_scene(3, (768, 768), 0.15)
    made = write_geotiff(tmp_path / "cut.tif", big.image, big.mask, 0.15, tiled=True)  # 256-px tiles
    import tifffile

    with tifffile.TiffFile(made["path"]) as tif:
        page = tif.pages[0]
        offset, size = page.dataoffsets[4], page.databytecounts[4]  # tile row 1, column 1 (the centre)
    raw = bytearray(Path(made["path"]).read_bytes())
    raw[offset:offset + size] = b"\xff" * size
    Path(made["path"]).write_bytes(bytes(raw))
    res = run_job(predict_ortho(predictor, made["path"], tmp_path / "c.tif", block=256))
    assert [b for b, _ in res.failed] == ["block 1,1 (rows 256-512, columns 256-512)"]
    assert "cut.tif" in res.failed[0][1] or "damaged" in res.failed[0][1]
    assert res.written == 8 and res.mask is None and not (tmp_path / "c.tif").exists()
    assert len(res.notes) == 8  # its neighbours lost the halo that reached into the damaged tile
    again = run_job(predict_ortho(predictor, made["path"], tmp_path / "c.tif", block=256))
    assert again.skipped == 8 and len(again.failed) == 1  # only the bad block is tried again
    # a truncated file: the blocks it cannot give are reported by name, no mask under the final name
    cut = tmp_path / "half.tif"
    cut.write_bytes(Path(made["path"]).read_bytes()[: Path(made["path"]).stat().st_size // 2])
    try:
        half = run_job(predict_ortho(predictor, cut, tmp_path / "h.tif", block=256))
    except BadInputError as exc:  # GDAL may refuse it whole (its tile index cut): one message naming it
        assert exc.path == cut
    else:
        assert half.failed and half.mask is None and not (tmp_path / "h.tif").exists()
        assert all("half.tif" in err for _, err in half.failed)
    # a file that is not a TIFF at all
    fake = tmp_path / "fake.tif"
    fake.write_bytes(b"II*\x00garbage")
    with pytest.raises(BadInputError, match="not a readable GeoTIFF"):
        run_job(predict_ortho(predictor, fake, tmp_path / "f.tif"))
