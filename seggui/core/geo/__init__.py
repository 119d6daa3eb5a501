"""GIS support: GeoTIFF/COG windows, CRS-aware pixel areas, polygons (the optional `geo` extra).

rasterio, pyproj, shapely and pyogrio carry GDAL and PROJ in their wheels, so
nothing comes from the system; they are still optional (`pip install
seggui[geo]`), so every module here imports them through `require()` inside
functions: the default install runs, and a GIS command without them is one
message naming the extra instead of an ImportError traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from seggui.core.errors import SegguiError

GEO_EXTRA_HINT = "install the GIS extra: pip install 'seggui[geo]' (rasterio, pyproj, shapely, pyogrio)"


class GeoUnavailable(SegguiError):
    """A GIS library of the `geo` extra is not installed."""


def require(name: str) -> ModuleType:
    """Import `name` (rasterio, pyproj, shapely, pyogrio or a submodule) or say which extra brings it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise GeoUnavailable(f"{name} is needed for GeoTIFF and polygon work ({exc}); {GEO_EXTRA_HINT}") \
            from None


def geo_available() -> bool:
    """True when the whole `geo` extra imports (tests and optional code paths ask this)."""
    try:
        for name in ("rasterio", "pyproj", "shapely", "pyogrio"):
            importlib.import_module(name)
    except ImportError:
        return False
    return True
