"""Find the image sequences in a folder of pictures: which pictures are frames of one drive.

Dashcam exports and datasets store a drive as numbered pictures: CamVid's
`0016E5_07959.png, 0016E5_07961.png, ...`, KITTI's `0000000000.png, ...`,
a tool's `frame_1.png ... frame_120.png`. A folder may hold several drives
(CamVid's train folder holds three) beside loose pictures. Opening such a
folder as a list of unrelated pictures loses what the analyst needs most on a
drive: the timeline, play, resume over frame ranges, area over time. So a
folder is split into

- sequences: pictures whose stems share a prefix and a suffix and end in a
  frame number, at least `MIN_SEQUENCE_FRAMES` of them (fewer numbered
  pictures are more likely a handful of shots, like `6411.jpg, 6703.jpg`);
- loose pictures: everything else, opened as pictures as before.

Frames are ordered by their number, not by their name, so unpadded numbering
(`frame_2` before `frame_10`) plays in time order; zero-padded names sort
the same either way. Each sequence gets an exact glob `pattern` that selects
its files again (`FolderSource(folder, pattern)`), so a workspace can reopen
the drive from the folder and the pattern alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from seggui.core.errors import BadInputError
from seggui.core.images import list_images

MIN_SEQUENCE_FRAMES = 10  # a folder's numbered pictures count as a drive from this many on
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class ImageSequence:
    """One drive stored as numbered pictures in `folder`, in frame order."""

    folder: Path
    prefix: str
    suffix: str
    files: tuple[Path, ...]

    @property
    def name(self) -> str:
        """A short human name: the prefix without trailing separators, else the folder's name."""
        return self.prefix.rstrip("_-. ") or self.folder.name

    @property
    def pattern(self) -> str:
        """A glob (for fnmatch on file names) that matches this sequence's files."""
        return f"{escape_glob(self.prefix)}*{escape_glob(self.suffix)}"

    def __len__(self) -> int:
        return len(self.files)


def escape_glob(text: str) -> str:
    """`text` with fnmatch's special characters made literal (`[` -> `[[]`)."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def natural_key(path: Path) -> tuple[object, ...]:
    """A sort key that orders numbers inside names by value: frame_2 < frame_10."""
    parts = _DIGITS.split(path.name)
    return tuple((0, int(p), len(p)) if p.isdigit() else (1, p.lower(), 0) for p in parts)


def frame_number(path: Path) -> int | None:
    """The frame number at the end of a file's stem, or None when the stem ends in no digits."""
    m = _NUMBERED.match(path.stem)
    return int(m.group("number")) if m else None


def split_sequences(files: list[Path], min_frames: int = MIN_SEQUENCE_FRAMES
                    ) -> tuple[list[ImageSequence], list[Path]]:
    """(the sequences among `files`, the pictures left over), both in a stable order.

    All files are expected in one folder (`list_images` of it). Sequences are
    ordered by name; each one's frames by frame number.
    """
    groups: dict[tuple[str, str], list[Path]] = {}
    loose: list[Path] = []
    for p in files:
        key = _group(p)
        if key is None:
            loose.append(p)
        else:
            groups.setdefault(key, []).append(p)
    sequences = []
    for (prefix, _suffix), members in sorted(groups.items()):
        if len(members) < min_frames:
            loose.extend(members)
            continue
        members.sort(key=lambda p: (frame_number(p), p.name))
        folder = members[0].parent
        sequences.append(ImageSequence(folder, prefix, members[0].suffix, tuple(members)))
    loose.sort(key=natural_key)
    return sequences, loose


def find_sequences(folder: str | Path, min_frames: int = MIN_SEQUENCE_FRAMES
                   ) -> tuple[list[ImageSequence], list[Path]]:
    """The sequences and the loose pictures of a folder (see `split_sequences`)."""
    return split_sequences(list_images(Path(folder)), min_frames)


def _matches(path: Path, pattern: str) -> bool:
    """fnmatch on the name or the stem, ignoring case (`.PNG` and `.png` are one sequence)."""
    pat = pattern.lower()
    return fnmatchcase(path.name.lower(), pat) or fnmatchcase(path.stem.lower(), pat)


def _group(path: Path) -> tuple[str, str] | None:
    m = _NUMBERED.match(path.stem)
    return (m.group("prefix"), path.suffix.lower()) if m else None


def sequence_files(folder: Path, pattern: str | None) -> tuple[list[Path], list[Path]]:
    """(the frames of `folder` selected by `pattern` in frame order, matching pictures left out).

    Without a pattern every picture is a frame, in natural name order. With
    one (`0016E5_*`, or an `ImageSequence.pattern`; case is ignored), the
    matching pictures that end in a frame number are the frames, ordered by
    that number. A matching picture without one (`0016E5_notes.png`) is left
    out and returned, so the caller can say so rather than shift every frame
    index; not for a pattern naming its sequence exactly, as the folder's own
    `ImageSequence.pattern` does: there it is one of the folder's pictures.
    A pattern is one drive: when its matches belong to several sequences
    (`0*` over CamVid's 0001TP_, 0006R0_f and 0016E5_), the one it names
    exactly is taken and the others are not frames; a pattern naming none of
    them is refused, listing them.
    """
    files = list_images(folder)
    if not pattern:
        return sorted(files, key=natural_key), []
    files = [p for p in files if _matches(p, pattern)]
    groups: dict[tuple[str, str], list[Path]] = {}
    for p in files:
        key = _group(p)
        if key is not None:
            groups.setdefault(key, []).append(p)
    if not groups:
        return sorted(files, key=natural_key), []
    named = [k for k in groups if f"{escape_glob(k[0])}*{escape_glob(k[1])}".lower() == pattern.lower()]
    if len(groups) == 1 and not named:
        (numbered,) = groups.values()
        strays = sorted((p for p in files if _group(p) is None), key=natural_key)
    else:  # a pattern naming its sequence exactly: unnumbered matches are the folder's loose pictures
        if len(named) != 1:
            listed = ", ".join(f"{prefix or '(no prefix)'}…{ext} ({len(v)} frames)"
                               for (prefix, ext), v in sorted(groups.items()))
            raise BadInputError(folder, f"'{pattern}' matches {len(groups)} image sequences: {listed}; "
                                "give a pattern that selects one, such as PREFIX*")
        numbered, strays = groups[named[0]], []
    return sorted(numbered, key=lambda p: (frame_number(p), p.name)), strays


def block_keys(files: list[Path], block: int = 10, min_frames: int = MIN_SEQUENCE_FRAMES) -> dict[Path, str]:
    """A group key per file: runs of `block` consecutive frames of a sequence share one.

    For splitting data into training and validation: neighbouring frames of
    a drive are near copies, so a frame on each side would make validation
    figures look better than they are. Keeping each run of frames on one side
    avoids that. A picture outside any sequence is its own group.
    """
    sequences, loose = split_sequences(list(files), min_frames)
    keys = {p: p.name for p in loose}
    for q in sequences:
        for i, p in enumerate(q.files):
            keys[p] = f"{q.prefix}{q.suffix.lower()}#{i // block}"
    return keys
