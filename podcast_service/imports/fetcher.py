"""The one way the service fetches a URL from elsewhere (import-feed's feed, covers, enclosures).

A URL in a feed is chosen by whoever wrote the feed, so each fetch is
guarded as if hostile:
- the host name is resolved here, every address it resolves to must be a
  public one (not loopback, private, link-local, shared or reserved), and the
  connection goes to the address that was checked, so a second DNS answer
  cannot swap in an internal one; each redirect is checked the same way;
- only http and https, at most MAX_REDIRECTS redirects, no proxies from the
  environment;
- a declared Content-Length over the limit is refused before reading, and
  reading stops at the limit whatever the server declared;
- every read has a timeout and the whole transfer a deadline, so a server
  that drips one byte at a time is cut off.
Each refusal is a FetchError with one line that says why.
`import_allow_private_networks` lifts the address rule, for tests and
closed networks.
"""

from __future__ import annotations

import http.client
import ipaddress
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from ..core.errors import ValidationError
from ..core.settings import current_settings
from ..core.spools import open_spool

USER_AGENT = "podcast-service feed import"
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 30
CHUNK = 1024 * 1024


class FetchError(ValidationError):
    """A fetch refused or failed; the message says which URL and why, in one line."""


# IPv6 ranges whose last 32 bits (or bits 16-48, for 6to4) name an IPv4 host that some
# stacks, gateways or NAT64 translators will reach: IPv4-compatible (::/96), IPv4-mapped
# (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96, 64:ff9b:1::/48).
_EMBEDS_IPV4 = [
    ipaddress.ip_network(n) for n in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
]


def _address_allowed(address: str) -> bool:
    """A global unicast address, and so is any IPv4 address an IPv6 form embeds."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # judged as the IPv4 address it is
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.sixtofour] + [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for n in _EMBEDS_IPV4 if ip in n]
        return all(v4 is None or (v4.is_global and not v4.is_multicast) for v4 in embedded)
    return True


def _guarded_connection(host: str, port: int, timeout: float | None) -> socket.socket:
    """A socket to `host`, after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise FetchError(f"cannot resolve {host}: {e.strerror}") from None
    allow_private = current_settings().import_allow_private_networks
    for *_, sockaddr in infos:
        if not allow_private and not _address_allowed(str(sockaddr[0])):
            raise FetchError(
                f"{host} resolves to {sockaddr[0]}, a private, loopback or reserved address; "
                "refused (see import_allow_private_networks)"
            )
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.settimeout(CONNECT_TIMEOUT)
    try:
        sock.connect(sockaddr)
    except OSError:
        sock.close()
        raise
    sock.settimeout(timeout if timeout is not None else READ_TIMEOUT)
    return sock


class _HTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = _guarded_connection(self.host, self.port, self.timeout)


class _HTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        sock = _guarded_connection(self.host, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]  # the TLS context HTTPSConnection keeps


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, context=ssl.create_default_context())


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl) -> urllib.request.Request | None:  # noqa: ANN001
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise FetchError(f"{req.full_url} redirects to {newurl}, which is not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    """http and https only (no file:, ftp: or data:), no proxy taken from the environment."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        _HTTPHandler(),
        _HTTPSHandler(),
        _RedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def is_url(ref: str) -> bool:
    return urlsplit(ref).scheme in ("http", "https")


def _copy(source: http.client.HTTPResponse, out: IO[bytes], url: str, limit: int, deadline: float) -> None:
    """read1 returns what has arrived, so the deadline is checked however slowly the bytes come."""
    copied = 0
    while chunk := source.read1(CHUNK):
        copied += len(chunk)
        if copied > limit:
            raise FetchError(f"{url} is larger than the limit of {limit // 1048576} MB")
        if time.monotonic() > deadline:
            raise FetchError(f"{url} arrives too slowly: not complete after the time allowed")
        out.write(chunk)


@contextmanager
def fetch(url: str, folder: Path, *, limit: int, seconds: float) -> Iterator[Path]:
    """Download `url` into a temporary file in `folder`, deleted when the block ends."""
    if not is_url(url):
        raise FetchError(f"{url} is not an http(s) URL")
    deadline = time.monotonic() + seconds
    with open_spool(folder, "import-") as out:
        try:
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            with _opener().open(request, timeout=READ_TIMEOUT) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchError(
                        f"{url} declares {int(declared) // 1048576} MB, more than the limit of {limit // 1048576} MB"
                    )
                _copy(response, out, url, limit, deadline)
        except urllib.error.HTTPError as e:
            raise FetchError(f"cannot fetch {url}: HTTP {e.code} {e.reason}") from None
        except urllib.error.URLError as e:
            reason = e.reason
            if isinstance(reason, FetchError):
                raise reason from None
            raise FetchError(f"cannot fetch {url}: {reason}") from None
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise FetchError(f"cannot fetch {url}: {e or type(e).__name__}") from None
        out.flush()
        yield Path(out.name)


@contextmanager
def copy_local(path: Path, folder: Path, *, limit: int) -> Iterator[Path]:
    """A local file (a feed saved to disk, and what it refers to) under the same size limit."""
    try:
        source = path.open("rb")
    except OSError as e:
        raise FetchError(f"cannot read {path}: {e.strerror}") from None
    with source, open_spool(folder, "import-") as out:
        if path.stat().st_size > limit:
            raise FetchError(f"{path} is larger than the limit of {limit // 1048576} MB")
        shutil.copyfileobj(source, out)
        out.flush()
        yield Path(out.name)
