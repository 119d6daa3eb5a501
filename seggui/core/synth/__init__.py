"""Synthetic aerial parking scenes with exact ground truth (the embedded demo data).

Top-down pictures at a chosen ground sampling distance: asphalt and concrete
lots with painted stalls and parked cars, streets with lane markings, roofs,
grass and trees with shadows from one sun, texture, lighting and sensor noise.
Each comes with its exact aerial-parking-6 mask and parking area in m²; drives
are overlapping frames flown over one larger scene.
"""

from seggui.core.synth.drive import Drive, render_drive, write_drive_video
from seggui.core.synth.labels import (
    BACKGROUND,
    BUILDING,
    PARKING,
    ROAD,
    VEGETATION,
    VEHICLE,
    parking_area_m2,
    to_parking_2,
)
from seggui.core.synth.scene import DEFAULT_GSD, DEFAULT_SIZE, Scene, render_scene

__all__ = [
    "BACKGROUND", "BUILDING", "DEFAULT_GSD", "DEFAULT_SIZE", "Drive", "PARKING", "ROAD", "Scene",
    "VEGETATION", "VEHICLE", "parking_area_m2", "render_drive", "render_scene", "to_parking_2",
    "write_drive_video",
]
