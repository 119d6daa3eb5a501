"""seggui: segment aerial pictures and dashcam drives, measure, correct, retrain.

Importing the package is cheap on purpose: torch, onnxruntime and Qt load only
inside the functions that need them, so the CLI and the window start fast.
"""

__version__ = "0.1.0"
