"""Path normalisation and the segment-aware allow-list, on their own (no server)."""

from __future__ import annotations

import pytest

from llm.errors import InvalidRequest
from proxy.allow import AllowList, normalise_path
from proxy.errors import PathNotAllowed

ESCAPES = [
    b"/files/../admin", b"/files/..", b"/..", b"/files/./x", b"/files/..;/admin", b"/files/...",
    b"/files/%2e%2e/admin", b"/files/%2E%2E/admin", b"/files/.%2e/admin", b"/files/%2e/x", b"/files%2f..",
    b"/files%2Fx", b"/files/a%5cb", b"/files/a\\b", b"/files\\..\\admin", b"/files/%252e%252e/admin",
    b"/files//x", b"//evil.example/files", b"///files", b"/http://evil.example/files",
    b"/https:%2F%2Fevil.example", b"/javascript:alert(1)", b"/files/a%00b", b"/files/a\x00b",
    b"/files/a\nb", b"/files/a%0d%0aSet-Cookie:x", b"/files/a\x7fb", b"/files/%zz", b"/files/%2",
    b"files/x", b"%2ffiles",
]


@pytest.mark.parametrize("raw", ESCAPES)
def test_escape_attempts_are_rejected_as_invalid_requests(raw: bytes) -> None:
    with pytest.raises(InvalidRequest):
        normalise_path(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", ""), (b"/", ""), (b"/files", "files"), (b"/files/", "files/"), (b"/files/a/b.txt", "files/a/b.txt"),
    (b"/%66iles/%7euser", "files/~user"), (b"/files/a%20b", "files/a%20b"), (b"/files/%c3%a9", "files/%C3%A9"),
    ("/files/é".encode(), "files/%C3%A9"), (b"/files/a#b", "files/a%23b"), (b"/files/a%3Fb", "files/a%3Fb"),
    (b"/files/v1:batch", "files/v1:batch"), (b"/files/a@b", "files/a@b"),
])
def test_paths_are_normalised_before_the_check(raw: bytes, expected: str) -> None:
    assert normalise_path(raw) == expected


@pytest.mark.parametrize("path", ["files", "files/", "files/x", "files/x/y.bin", "auth/login", "auth/login/sso"])
def test_allow_list_admits_a_prefix_and_whatever_is_below_it(path: str) -> None:
    AllowList(["files", "/auth/login/"]).check(path)


@pytest.mark.parametrize("path", ["", "filesystem", "file", "auth", "auth/logout", "auth/loginx", "x/files"])
def test_allow_list_is_segment_aware(path: str) -> None:
    with pytest.raises(PathNotAllowed):
        AllowList(["files", "auth/login"]).check(path)


def test_allow_list_entries_are_normalised_like_paths() -> None:
    AllowList(["%66iles", "médias"]).check("files/x")
    AllowList(["médias"]).check(normalise_path("/médias/a".encode()))


def test_an_empty_allow_list_allows_nothing() -> None:
    with pytest.raises(PathNotAllowed):
        AllowList(["", " ", "/"]).check("files")


@pytest.mark.parametrize("entry", ["../x", "files/..", "a%2fb", "a//b", "http://x"])
def test_an_allow_list_entry_that_escapes_fails_at_start_up(entry: str) -> None:
    with pytest.raises(ValueError, match="GOBE_PROXY_ALLOW"):
        AllowList([entry])
