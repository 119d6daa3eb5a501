"""Ground sampling distance: how many square metres one pixel covers.

Areas in m² are only as good as this number, so every value carries where it
came from (`Gsd.source`, `Gsd.path`) and says so in reports. Sources:

- a value the user gives (metres per pixel, "flag"), or one stored in the
  workspace ("workspace");
- a GeoTIFF's own tags: ModelPixelScaleTag (33550) or ModelTransformationTag
  (34264), with the units read from the GeoKeyDirectoryTag (34735);
- a world file beside the picture (`.tfw .jgw .pgw .wld .tifw .jpgw .pngw`:
  six numbers A D B E C F), with an optional `.prj` beside it for the units.

The pixel area is |det| of the 2x2 pixel-to-map matrix, so rotated or sheared
georeferencing gives the true area, not the product of the two scales.

Geographic CRSs (pixel sizes in degrees) are REFUSED with a message rather
than handled geodesically: a degree of longitude shrinks with latitude, so one
m²-per-pixel number would be wrong across the picture, and a per-row geodesic
model is more machinery than a drone or aerial mosaic (always delivered in a
projected CRS) ever needs. Files without any unit information are taken to be
in metres; GeoTIFF keys or a `.prj` in feet are converted.
"""

from __future__ import annotations

import glob
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from seggui.core.errors import BadInputError
from seggui.core.images import read_bytes
from seggui.core.imagesize import TIFF_MAGIC, image_size

WORLD_FILE_SUFFIXES = (".wld", ".tfw", ".tifw", ".jgw", ".jpgw", ".pgw", ".pngw")
SOURCES = ("flag", "geotiff", "world file", "workspace", "generator")

# EPSG unit-of-measure codes: linear units in metres; angular ones are refused.
_LINEAR_UNITS = {9001: ("metre", 1.0), 9002: ("foot", 0.3048), 9003: ("US survey foot", 1200 / 3937),
                 9030: ("nautical mile", 1852.0), 9036: ("kilometre", 1000.0)}
_ANGULAR_UNITS = range(9101, 9123)
_DEGREES_HINT = "give the GSD in metres per pixel (--gsd) or reproject the picture to a projected CRS"


@dataclass(frozen=True)
class Gsd:
    """Ground size of one pixel: its area and its two side lengths in metres.

    `x_m`/`y_m` are the lengths of a pixel's sides on the ground (they differ
    for non-square pixels); `m2_per_px` is the exact pixel area, which for a
    rotated or sheared grid is less than `x_m * y_m`. `path` is the file the
    value came from (None for a value the user typed) and `note` any
    conversion applied (feet to metres, picture-to-mask scaling).
    """

    m2_per_px: float
    x_m: float
    y_m: float
    source: str
    path: Path | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown GSD source {self.source!r}; one of {SOURCES}")
        for value in (self.m2_per_px, self.x_m, self.y_m):
            if not (math.isfinite(value) and value > 0):
                raise BadInputError(self.path, f"pixel size must be a positive number of metres, got {value}")

    @classmethod
    def square(cls, m_per_px: float, source: str = "flag", path: str | Path | None = None) -> Gsd:
        """A square pixel of side `m_per_px` metres (the usual way users state a GSD)."""
        where = Path(path) if path is not None else None
        try:
            m = float(m_per_px)
        except (TypeError, ValueError):
            raise BadInputError(where, f"GSD must be metres per pixel, got {m_per_px!r}") from None
        if not (math.isfinite(m) and m > 0):
            raise BadInputError(where, f"GSD must be a positive number of metres per pixel, got {m_per_px!r}")
        return cls(m * m, m, m, source, where)

    @classmethod
    def from_matrix(cls, a: float, b: float, d: float, e: float, source: str, path: Path | None,
                    unit_m: float = 1.0, note: str = "") -> Gsd:
        """From the 2x2 pixel-to-map matrix [[a, b], [d, e]] (map units; `unit_m` metres each)."""
        area = abs(a * e - b * d) * unit_m * unit_m
        if not (math.isfinite(area) and area > 0):
            raise BadInputError(path, "pixel size is zero or not a number (degenerate georeferencing)")
        return cls(area, math.hypot(a, d) * unit_m, math.hypot(b, e) * unit_m, source, path, note)

    @property
    def m_per_px(self) -> float:
        """The side of a square pixel of the same area (what one number can say)."""
        return math.sqrt(self.m2_per_px)

    def scaled(self, fx: float, fy: float, note: str = "") -> Gsd:
        """The GSD of a resampled raster whose pixels are `fx` x `fy` times larger."""
        return replace(self, m2_per_px=self.m2_per_px * fx * fy, x_m=self.x_m * fx, y_m=self.y_m * fy,
                       note="; ".join(n for n in (self.note, note) if n))

    def describe(self) -> str:
        """One line for reports and the UI: '0.150 m/px from world file site.jgw'."""
        if math.isclose(self.x_m, self.y_m, rel_tol=1e-6):
            size = f"{self.x_m:.3f} m/px"
        else:
            size = f"{self.x_m:.3f} x {self.y_m:.3f} m/px"
        name = self.path.name if self.path is not None else ""
        where = {"flag": "set by the user", "geotiff": f"from GeoTIFF tags of {name}",
                 "world file": f"from world file {name}", "workspace": f"from workspace {name}",
                 "generator": "stated by the scene generator"}[self.source]
        return f"{size} {where}" + (f" ({self.note})" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form (the workspace stores it; reports show it)."""
        return {"m2_per_px": self.m2_per_px, "x_m": self.x_m, "y_m": self.y_m, "source": self.source,
                "path": str(self.path) if self.path is not None else None, "note": self.note,
                "text": self.describe()}

    @classmethod
    def from_workspace(cls, data: Any, path: str | Path) -> Gsd:
        """Load a GSD saved by `to_dict` in a workspace file.

        The original source (flag, GeoTIFF, world file) and its file are kept,
        so reports still say where the figure came from; an entry without one
        is attributed to the workspace file itself.
        """
        where = Path(path)
        try:
            source = str(data.get("source") or "workspace")
            if source not in SOURCES:
                source = "workspace"
            origin = Path(data["path"]) if data.get("path") and source != "workspace" else where
            return cls(float(data["m2_per_px"]), float(data["x_m"]), float(data["y_m"]), source,
                       origin, str(data.get("note") or ""))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise BadInputError(where, "GSD entry needs numbers m2_per_px, x_m and y_m") from None


# ------------------------------------------------------------------ world files
def _prj_unit(prj: Path) -> tuple[str, float] | None:
    """Linear unit of a `.prj` WKT beside a world file; refuse a geographic CRS."""
    text = prj.read_text(encoding="utf-8", errors="replace").upper()
    if not re.search(r"PROJCS|PROJCRS|PROJECTEDCRS", text):
        if re.search(r"GEOGCS|GEOGCRS|GEODCRS|GEOGRAPHICCRS", text):
            raise BadInputError(prj, f"the CRS is geographic (pixel size in degrees); {_DEGREES_HINT}")
        return None
    units = re.findall(r'(?:LENGTHUNIT|UNIT)\["([^"]*)"\s*,\s*([0-9.eE+-]+)', text)
    if not units:
        return None
    name, factor = units[-1]  # in WKT the projected (linear) unit comes last
    try:
        return name.lower(), float(factor)
    except ValueError:
        raise BadInputError(prj, f"unreadable unit factor {factor!r}") from None


def read_world_file(path: str | Path) -> Gsd:
    """Parse a world file (A D B E C F, one number a line) into a GSD.

    A `.prj` with the same stem, if present, gives the units (feet convert,
    degrees are refused); without one the numbers are taken as metres.
    """
    path = Path(path)
    text = read_bytes(path).decode("utf-8-sig", errors="replace")
    parts = text.split()
    if len(parts) != 6:
        raise BadInputError(path, f"a world file holds 6 numbers (A D B E C F), found {len(parts)} values")
    try:
        a, d, b, e, _c, _f = (float(p) for p in parts)
    except ValueError:
        raise BadInputError(path, f"a world file holds 6 numbers, got {' '.join(parts)!r}") from None
    unit_m, note = 1.0, ""
    for prj in (path.with_suffix(".prj"), path.with_suffix(".PRJ")):
        if prj.is_file():
            unit = _prj_unit(prj)
            if unit is not None and not math.isclose(unit[1], 1.0):
                unit_m, note = unit[1], f"{unit[0]} converted to metres"
            break
    if not all(math.isfinite(v) for v in (a, b, d, e)) or a * e - b * d == 0:
        raise BadInputError(path, "pixel size is zero or not a number (A*E - B*D = 0): "
                                  "not a usable world file")
    return Gsd.from_matrix(a, b, d, e, "world file", path, unit_m, note)


def world_file_for(path: str | Path) -> Path | None:
    """The world file beside `path` with the same stem, if one exists."""
    path = Path(path)
    for suffix in WORLD_FILE_SUFFIXES:
        for s in (suffix, suffix.upper()):
            cand = path.with_suffix(s)
            if cand.is_file():
                return cand
    return None


# --------------------------------------------------------------------- GeoTIFF
def _is_tiff(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) in TIFF_MAGIC
    except OSError:
        return False


def _geokeys(tags: Any) -> dict[int, Any]:
    """Decode GeoKeyDirectoryTag entries (id -> int, float tuple or text)."""
    directory = tags.get(34735)
    if directory is None:
        return {}
    raw = [int(v) for v in directory.value]
    doubles = tags.get(34736).value if tags.get(34736) is not None else ()
    ascii_ = tags.get(34737).value if tags.get(34737) is not None else ""
    keys: dict[int, Any] = {}
    for i in range(4, min(len(raw), 4 + 4 * raw[3]) - 3, 4):
        key, where, count, value = raw[i:i + 4]
        if where == 0:
            keys[key] = value
        elif where == 34736:
            keys[key] = tuple(doubles[value:value + count])
        elif where == 34737:
            keys[key] = str(ascii_)[value:value + count]
    return keys


def read_geotiff_gsd(path: str | Path, data: bytes | None = None) -> Gsd | None:
    """The GSD from a GeoTIFF's own tags, or None when the file has none.

    Not a TIFF, or a TIFF without ModelPixelScale/ModelTransformation: None.
    A geographic (degree) CRS or an unknown unit: BadInputError. `data`: the
    file's bytes already in memory (an upload to `seggui serve`), read instead
    of `path`, which then only names them in messages.
    """
    import io

    import tifffile

    path = Path(path)
    if not (data[:4] in TIFF_MAGIC if data is not None else _is_tiff(path)):
        return None
    try:
        with tifffile.TiffFile(io.BytesIO(data) if data is not None else path) as tif:
            tags = tif.pages[0].tags  # type: ignore[union-attr]
            scale = tags.get(33550)
            matrix = tags.get(34264)
            if scale is None and matrix is None:
                return None
            keys = _geokeys(tags)
            scale_v = tuple(float(v) for v in scale.value) if scale is not None else None
            matrix_v = tuple(float(v) for v in matrix.value) if matrix is not None else None
    except Exception as exc:  # noqa: BLE001 - tifffile raises many kinds on a damaged file
        raise BadInputError(path, f"cannot read TIFF tags ({exc})") from None
    model = keys.get(1024)
    units = keys.get(3076)
    if model == 2 or (isinstance(units, int) and units in _ANGULAR_UNITS) or (
            model is None and units is None and 2054 in keys and 3072 not in keys):
        return _on_the_ellipsoid(path, data, "the GeoTIFF CRS is geographic (pixel size in degrees)")
    if keys.get(3072) in _MERCATOR_CODES:  # map metres overstate the ground by 1/cos²(latitude)
        return _on_the_ellipsoid(path, data, "the GeoTIFF is in Web Mercator (map metres are not ground "
                                             "metres)")
    if model == 3:
        raise BadInputError(path, "the GeoTIFF uses a geocentric model, which has no ground pixel size")
    unit_m, note = 1.0, ""
    if units == 32767 and isinstance(keys.get(3077), tuple) and keys[3077]:
        unit_m, note = float(keys[3077][0]), "user-defined unit converted to metres"
    elif units is not None:
        if units not in _LINEAR_UNITS:
            raise BadInputError(path, f"unsupported linear unit code {units} in the GeoTIFF keys")
        name, unit_m = _LINEAR_UNITS[units]
        note = "" if unit_m == 1.0 else f"{name} converted to metres"
    if matrix_v is not None:
        if len(matrix_v) != 16:
            raise BadInputError(path, f"ModelTransformationTag holds {len(matrix_v)} values, not 16")
        a, b, d, e = matrix_v[0], matrix_v[1], matrix_v[4], matrix_v[5]
    else:
        if scale_v is None or len(scale_v) < 2:
            raise BadInputError(path, "ModelPixelScaleTag holds fewer than 2 values")
        a, b, d, e = scale_v[0], 0.0, 0.0, -scale_v[1]
    return Gsd.from_matrix(a, b, d, e, "geotiff", path, unit_m, note)


_MERCATOR_CODES = (3857, 3785, 900913, 102100, 102113)


def _on_the_ellipsoid(path: Path, data: bytes | None, why: str) -> Gsd:
    """A geographic or Mercator GeoTIFF measured on the ellipsoid (the `geo` extra), else refused.

    The Gsd is the mean pixel area over the picture's rows; its note names
    the CRS and the method (`seggui.core.geo.areas`).
    """
    from seggui.core.geo import GeoUnavailable

    if data is None:
        try:
            from seggui.core.geo.areas import gsd_from_geotiff

            return gsd_from_geotiff(path)
        except GeoUnavailable:
            pass
    raise BadInputError(path, f"{why}; {_DEGREES_HINT}, or install seggui[geo] to measure it on the "
                              "ellipsoid")


# ----------------------------------------------------------------- the finder
def picture_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of a picture, from its header where that is cheap (the shared reader)."""
    return image_size(path)


def same_stem_files(folder: str | Path, stem: str) -> list[Path]:
    """Files in `folder` named `stem.<anything>` (the pictures a mask may belong to)."""
    folder = Path(folder)
    return sorted(Path(p) for p in glob.glob(str(folder / glob.escape(stem)) + ".*")
                  if Path(p).is_file() and Path(p).suffix.lower() not in WORLD_FILE_SUFFIXES + (".prj",))


def _own_gsd(path: Path) -> Gsd | None:
    """Georeferencing of one file: its GeoTIFF tags first (as GDAL does), then a world file."""
    found = read_geotiff_gsd(path) if path.is_file() else None
    if found is None:
        world = world_file_for(path)
        found = read_world_file(world) if world is not None else None
    return found


def find_gsd(path: str | Path, candidates: Iterable[str | Path] = (),
             shape: tuple[int, int] | None = None) -> Gsd | None:
    """Find the GSD of a mask or picture from georeferencing on disk, or None.

    Looks at `path` itself, then each of `candidates` in order (typically the
    picture the mask was drawn on). Georeferencing found on `path` is taken to
    describe `path`'s own pixels. Georeferencing found on a candidate picture
    describes the picture's pixels, so when `shape` (the mask's height, width)
    is given and the picture's size differs, the GSD is scaled to the mask; a
    different aspect ratio means the pair does not belong together and is an
    error rather than a silent wrong area.
    """
    path = Path(path)
    found = _own_gsd(path)
    if found is not None:
        return found
    for cand in (Path(c) for c in candidates):
        if cand == path or not cand.exists():
            continue
        found = _own_gsd(cand)
        if found is None:
            continue
        if shape is None:
            return found
        ph, pw = picture_size(cand)
        mh, mw = shape
        if (ph, pw) == (mh, mw):
            return found
        fx, fy = pw / mw, ph / mh
        if not math.isclose(fx, fy, rel_tol=0.02):
            raise BadInputError(path, f"mask is {mw}x{mh} but the georeferenced picture {cand.name} is "
                                      f"{pw}x{ph} (another aspect ratio): cannot carry its GSD over")
        return found.scaled(fx, fy, f"picture {pw}x{ph} scaled to mask {mw}x{mh}")
    return None

