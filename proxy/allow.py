"""Proxy path normalisation and the segment-aware allow-list (GOBE_PROXY_ALLOW).

A path is checked on its raw bytes, so nothing a client encodes can turn into a separator, a dot
segment or another host after GoBE decodes it, or after it normalises Unicode (NFKC, look-alikes).
Imports only the standard library and ``llm.errors``.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from typing import Final

from llm.errors import InvalidRequest
from proxy.errors import PathNotAllowed

# RFC 3986 §2.3: escapes of these are decoded, so "%66iles" is checked (and sent) as "files".
_UNRESERVED: Final = frozenset((string.ascii_letters + string.digits + "-_~").encode())
# RFC 3986 §3.3 pchar, minus "%" (escapes are handled one by one): everything else gets escaped.
_PCHAR: Final = _UNRESERVED | frozenset(b".!$&'()*+,;=:@")
# Decoded from an escape, these would let GoBE see another path than the one we checked:
# separators, dots (".%2e"), a second round of decoding ("%252e"), control characters.
_FORBIDDEN_DECODED: Final = frozenset(b"./\\%") | frozenset(range(0x20)) | {0x7F}
_HEX: Final = frozenset(string.hexdigits.encode())
# "..", ".", and Tomcat-style "..;x" all mean "go up" to some servers.
_DOT_SEGMENT: Final = re.compile(r"\.+(;.*)?")
# A first segment such as "http:" or "javascript:x" would read as an absolute URL.
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# A non-ASCII character is refused when NFKC turns it into one of these (fullwidth "．", "／", "＼",
# one-dot leader "․", small full stop "﹒", "％"), or when its name says it is a slash or a dot that
# NFKC keeps but other normalisers fold (division slash "∕", fraction slash "⁄", ideographic full stop).
_NFKC_FORBIDDEN: Final = frozenset("./\\%:?#@")
_LOOK_ALIKE_NAMES: Final = ("SOLIDUS", "SLASH", "FULL STOP", "DOT LEADER", "ELLIPSIS", "SET MINUS")


def normalise_path(raw: bytes) -> str:
    """Return the path to forward, percent-encoded ASCII without a leading "/" ("" for the root).

    ``raw`` is the request's raw path after ``/v1/proxy``. Raise ``InvalidRequest`` for anything
    that tries to escape: dot segments, encoded dots/slashes/backslashes/percents, backslashes,
    empty segments (``a//b``, ``//host``), scheme-like first segments and control characters.
    A single trailing "/" is kept.
    """
    if raw in (b"", b"/"):
        return ""
    if not raw.startswith(b"/"):
        raise InvalidRequest("bad proxy path")
    parts = raw[1:].split(b"/")
    trailing_slash = parts[-1] == b""
    if trailing_slash:
        parts.pop()
    segments = [_segment(part) for part in parts]
    if _SCHEME.match(segments[0]):
        raise InvalidRequest("bad proxy path")
    return "/".join(segments) + ("/" if trailing_slash else "")


def _segment(raw: bytes) -> str:
    if not raw:
        raise InvalidRequest("bad proxy path: empty segment")
    out = bytearray()  # what is forwarded: ASCII, escapes kept
    decoded = bytearray()  # what GoBE will see once it decodes the escapes
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x25:  # "%"
            escape = raw[i + 1 : i + 3]
            if len(escape) != 2 or not _HEX.issuperset(escape):
                raise InvalidRequest("bad proxy path: malformed escape")
            value = int(escape, 16)
            if value in _FORBIDDEN_DECODED:
                raise InvalidRequest("bad proxy path: forbidden escape")
            out += bytes([value]) if value in _UNRESERVED else b"%%%02X" % value
            decoded.append(value)
            i += 3
            continue
        if byte == 0x5C or byte < 0x20 or byte == 0x7F:  # backslash, control characters
            raise InvalidRequest("bad proxy path")
        out += bytes([byte]) if byte in _PCHAR else b"%%%02X" % byte
        decoded.append(byte)
        i += 1
    _check_text(bytes(decoded))
    segment = out.decode("ascii")
    if _DOT_SEGMENT.fullmatch(segment):
        raise InvalidRequest("bad proxy path: dot segment")
    return segment


def _check_text(decoded: bytes) -> None:
    """Refuse a segment that is not valid UTF-8 (overlong forms such as ``%C0%AE`` included) or holds
    a character that a backend could normalise into a separator or a dot."""
    if decoded.isascii():
        return
    try:
        text = decoded.decode("utf-8")  # strict: overlong forms, surrogates and stray bytes fail
    except UnicodeDecodeError:
        raise InvalidRequest("bad proxy path: not UTF-8") from None
    for char in text:
        if char.isascii():
            continue
        if unicodedata.category(char)[0] == "C" or _NFKC_FORBIDDEN & set(unicodedata.normalize("NFKC", char)) \
                or any(word in unicodedata.name(char, "") for word in _LOOK_ALIKE_NAMES):
            raise InvalidRequest("bad proxy path: look-alike character")


class AllowList:
    """Path prefixes, compared segment by segment: ``files`` allows ``files`` and ``files/x``, never
    ``filesystem``. An empty list allows nothing."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        self.prefixes: tuple[tuple[str, ...], ...] = tuple(
            parsed for parsed in (_prefix(p) for p in prefixes) if parsed
        )

    def check(self, path: str) -> None:
        """Raise ``PathNotAllowed`` unless ``path`` (as ``normalise_path`` returns it) is allowed."""
        segments = tuple(s for s in path.split("/") if s)
        if not any(segments[: len(prefix)] == prefix for prefix in self.prefixes):
            raise PathNotAllowed("proxy path not allowed")


def _prefix(entry: str) -> tuple[str, ...]:
    """Normalise an allow-list entry exactly as a request path is normalised."""
    try:
        path = normalise_path(("/" + entry.strip().strip("/")).encode())
    except (InvalidRequest, UnicodeEncodeError):
        raise ValueError(f"GOBE_PROXY_ALLOW has value {entry!r}. Not a plain path prefix.") from None
    return tuple(s for s in path.split("/") if s)
