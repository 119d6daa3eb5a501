"""Picture sizes from file headers, for the media sources.

The reader itself lives in `seggui.core.imagesize`, beside the pixel limit it
also serves (one header reader for sizes, bombs and GSD scaling); this module
keeps the media package's import of it.
"""

from __future__ import annotations

from seggui.core.imagesize import image_size

__all__ = ["image_size"]
