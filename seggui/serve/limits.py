"""What the server accepts: upload size, picture size, who may call it, where it may listen.

Why these rules:

- An upload is refused from its declared length (Content-Length) before it is
  read, and a body without one is counted as it arrives and refused once over:
  a client cannot make the server buffer more than `max_upload_bytes`.
- A picture's pixel count is read from its header before it is decoded, so a
  decompression bomb (a tiny PNG declaring 60000x60000) costs the header only.
- A server reachable from other machines runs models on whatever it is sent,
  so it must not listen beyond loopback without a token; the token is compared
  in constant time (`hmac.compare_digest`) so its bytes cannot be guessed one
  by one from response times.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from seggui.core.errors import SegguiError
from seggui.core.imagesize import size_of_bytes

DEFAULT_MAX_UPLOAD_MB = 64.0
DEFAULT_MAX_PIXELS = 50_000_000  # an 8000x6000 orthophoto fits
TOKEN_ENV = "SEGGUI_SERVE_TOKEN"


class TooLarge(SegguiError):
    """An upload or a picture over the server's limits (HTTP 413)."""


@dataclass(frozen=True)
class Limits:
    """The server's limits: bytes per request body and pixels per picture or mask."""

    max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    max_pixels: int = DEFAULT_MAX_PIXELS

    def check_pixels(self, field: str, data: bytes) -> None:
        """Raise TooLarge when the header of `data` declares more than `max_pixels` pixels."""
        size = size_of_bytes(data)
        if size is not None and size[0] * size[1] > self.max_pixels:
            h, w = size
            raise TooLarge(f"{field}: the picture is {w}x{h} ({h * w / 1e6:,.1f} megapixels), over this "
                           f"server's limit of {self.max_pixels / 1e6:,.1f} megapixels (--max-pixels)")

    def upload_message(self, length: int | None = None) -> str:
        """The 413 message for a request body over the limit."""
        got = f" ({length / 1048576:,.1f} MiB)" if length is not None else ""
        return (f"the request body{got} is over this server's upload limit of "
                f"{self.max_upload_bytes / 1048576:,.1f} MiB (--max-upload-mb)")


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine ("localhost", 127.x, ::1)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def check_listen(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token (raises SegguiError saying how to fix it)."""
    if token is not None and not token.strip():
        raise SegguiError("--token is empty; give a long random string (or leave it out on 127.0.0.1)")
    if not is_loopback(host) and not token:
        raise SegguiError(f"refusing to listen on {host} without a token: anyone who can reach it could "
                          f"run models on this machine. Give --token (or set {TOKEN_ENV}), or listen "
                          "on 127.0.0.1")


def token_matches(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries `Bearer <token>`, compared in constant time."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))
