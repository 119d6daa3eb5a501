"""One process of the DDP test: train from a JSON config, then record this rank's weights.

Run by tests/training/test_ddp.py under ``python -m torch.distributed.run``;
not a test module itself. Writes ``RESULTS/rank<N>.json`` with a digest of
every tensor of the final model.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch

from seggui.core.jobs import run_job
from seggui.training.config import load_config
from seggui.training.loop import train_job


def main() -> None:
    torch.set_num_threads(1)
    cfg_path, results = Path(sys.argv[1]), Path(sys.argv[2])
    result = run_job(train_job(load_config(cfg_path)))
    state = result.model.state_dict()
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    rank = int(os.environ["RANK"])
    out = {"rank": rank, "world": int(os.environ["WORLD_SIZE"]), "digest": digest.hexdigest(),
           "status": result.status, "miou": result.best_miou}
    (results / f"rank{rank}.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main()
