"""How the window counts pictures and drive frames in its messages."""

from __future__ import annotations

from seggui.core.frame_record import FrameRecord, count_records, counted


def test_loose_pictures_are_pictures_and_drive_frames_frames() -> None:
    assert counted(1, 0) == "1 picture" and counted(4, 0) == "4 pictures"
    assert counted(1, 1) == "1 frame" and counted(3, 3) == "3 frames"
    assert counted(5, 2) == "5 pictures and frames"
    assert counted(0, 0) == "0 pictures"


def test_count_records_reads_which_belong_to_a_drive() -> None:
    picture = FrameRecord("a", image="a.png")
    frame = FrameRecord("drive_000001", source="drive.mp4", index=1)
    assert count_records([picture, picture]) == "2 pictures"
    assert count_records([frame]) == "1 frame"
    assert count_records([picture, frame]) == "2 pictures and frames"
