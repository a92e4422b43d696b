"""`models pull`: a resumable HTTP download, checksum verified, renamed into place at the end.

Bytes go to `.<file>.partial` in the models dir; an interrupted download (dropped
connection, killed process) resumes from that file's size with an HTTP Range request.
Only a file whose sha256 matches is renamed to its real name.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from codeassist_lsp.llm.checksum import CACHE_FILE, file_sha256, remember, sha256_file
from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.progress import Progress
from codeassist_lsp.llm.store import models_dir, record_pulled

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_CONTENT_RANGE_RE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def model_name_from_url(url: str) -> str:
    """`https://host/x/Foo-Q4.gguf?dl=1` -> `Foo-Q4`."""
    base = Path(urlparse(url).path).name
    stem = base[:-5] if base.lower().endswith(".gguf") else base
    return stem or "model"


def _fetch_once(url: str, partial: Path, timeout: float) -> bool:
    """Append what the server sends after the bytes we have; True when the file is whole."""
    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "codeassist"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            return True  # nothing after our bytes: the partial file is complete
        raise ModelUnavailable(f"download failed: HTTP {exc.code} {exc.reason} for {url}") from exc
    with response:
        total: int | None = None
        if response.status == 206:
            match = _CONTENT_RANGE_RE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                raise ModelUnavailable(f"download failed: the server sent a wrong range for {url}")
            total = int(match.group(3)) if match.group(3) != "*" else None
            mode = "ab"
        else:
            offset = 0  # the server ignored the range: start over
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            mode = "wb"
        bar = Progress(f"downloading {partial.name.strip('.')}", total or 0)
        bar.set(offset)
        try:
            with partial.open(mode) as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    bar.advance(len(chunk))
        finally:
            bar.close()
    return total is None or partial.stat().st_size >= total


def pull(
    url: str,
    sha256: str,
    data_dir: Path,
    name: str | None = None,
    *,
    attempts: int = 5,
    timeout: float = 60.0,
) -> Path:
    """Download `url` into the models dir as `<name>.gguf`, resuming, verifying, renaming."""
    sha256 = sha256.strip().lower()
    if not SHA256_RE.match(sha256):
        raise ModelUnavailable("--sha256 must be 64 hexadecimal digits")
    name = name or model_name_from_url(url)
    folder = models_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.gguf"
    partial = folder / f".{target.name}.partial"
    if target.exists():
        if file_sha256(target, folder / CACHE_FILE) != sha256:
            raise ModelUnavailable(f"{target} exists with another sha256; pick a --name")
    else:
        _download(url, partial, attempts, timeout)
        actual = sha256_file(partial)
        if actual != sha256:
            partial.unlink(missing_ok=True)
            raise ModelUnavailable(
                f"downloaded file does not match --sha256 (got {actual[:12]}…); it was deleted"
            )
        os.replace(partial, target)
        remember(target, sha256, folder / CACHE_FILE)
    record_pulled(data_dir, name, target.name, sha256, url)
    return target


def _download(url: str, partial: Path, attempts: int, timeout: float) -> None:
    for attempt in range(1, attempts + 1):
        try:
            if _fetch_once(url, partial, timeout):
                return
        except (OSError, http.client.HTTPException) as exc:
            log.warning("download interrupted (%s), attempt %d of %d", exc, attempt, attempts)
    have = partial.stat().st_size if partial.exists() else 0
    raise ModelUnavailable(
        f"download of {url} stopped at {have:,} bytes; run the same command again to resume"
    )
