"""Helpers of the engine tests: a tiny model card and small CamVid pictures.

A randomly initialised network outputs almost flat logits (every pixel ~1/12
confident, the same classes whatever the picture), which would make any
agreement test pass trivially or fail on ties. So the tiny model (Unet,
mobilenet_v2 encoder cut at depth 3, output stride 8) gets its logits layer
fitted on CamVid train pictures at 96x128 (`fit_tiny`): its labels then follow
the picture (sky, building, road, tree, car...), and comparisons between
backends and tilings mean something.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from seggui.core.images import list_images, read_image
from seggui.core.masks import read_mask

TINY_ARCH = "Unet"
TINY_ENCODER = "mobilenet_v2"
TINY_PARAMS = {"encoder_depth": 3, "decoder_channels": [32, 16, 8]}
SMALL_HW = (96, 128)


def small(image: np.ndarray, hw: tuple[int, int] = SMALL_HW, nearest: bool = False) -> np.ndarray:
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(image, (hw[1], hw[0]), interpolation=interp)


def make_card(folder: Path, model=None, *, name: str = "tiny", num_classes: int = 12,  # noqa: ANN001
              classes="camvid-11", tile_size: int = 512, tile_overlap: int = 64, seed: int = 0,
              weights_name: str = "weights.safetensors"):
    """Write a tiny card (random init unless `model` is given) and return it loaded."""
    import torch

    from seggui.engine.card import InputSpec, ModelCard
    from seggui.engine.factory import build_model
    from seggui.engine.weights import save_state_dict

    if model is None:
        torch.manual_seed(seed)
        model = build_model(TINY_ARCH, TINY_ENCODER, num_classes, TINY_PARAMS)
    folder.mkdir(parents=True, exist_ok=True)
    if weights_name.endswith(".safetensors"):
        save_state_dict(model, folder / weights_name)
    else:
        torch.save(model.state_dict(), folder / weights_name)
    card = ModelCard(
        name=name, architecture=TINY_ARCH, encoder=TINY_ENCODER, arch_params=dict(TINY_PARAMS),
        num_classes=num_classes, classes_spec=classes, weights=weights_name,
        input=InputSpec(stride=8, tile_size=tile_size, tile_overlap=tile_overlap),
        metrics={"val_miou": 0.123},
    )
    card.save(folder)
    return ModelCard.load(folder)


def fit_tiny(camvid: Path, steps: int = 100):
    """Fit only the logits layer on CamVid train features at 96x128: picture-dependent labels in seconds.

    Training the whole network on the CPU takes seconds per step; the head
    alone, on features computed once, takes milliseconds.
    """
    import torch

    from seggui.engine.factory import build_model, head_layer

    torch.manual_seed(0)
    model = build_model(TINY_ARCH, TINY_ENCODER, 12, TINY_PARAMS).eval()
    files = list_images(camvid / "train")[::12][:24]
    mean = np.array([0.485, 0.456, 0.406], np.float32) * 255
    std = np.array([0.229, 0.224, 0.225], np.float32) * 255
    x = np.stack([(small(read_image(f)) - mean) / std for f in files]).transpose(0, 3, 1, 2)
    y = np.stack([small(read_mask(camvid / "trainannot" / f.name), nearest=True) for f in files])
    xt, yt = torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(y.astype(np.int64))
    head = model.get_submodule(head_layer(model)[0].rsplit(".", 1)[0])
    seen: dict[str, torch.Tensor] = {}
    hook = head.register_forward_hook(lambda _m, inp, _out: seen.__setitem__("x", inp[0].detach()))
    with torch.no_grad():
        model(xt)
    hook.remove()
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(head(seen["x"]), yt, ignore_index=11)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()
