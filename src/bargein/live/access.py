"""Who may talk to ``bargein serve``: the token, the ``Host`` allow-list and the ``Origin``.

Every HTTP request (the page, ``/api/sessions``, and the WebSocket upgrade of either
protocol) passes :meth:`AccessPolicy.check` before anything else runs:

- ``Host`` must name this server: one of the allowed host names with the port the server
  listens on. This stops DNS rebinding: a page on ``evil.example`` whose name is made to
  resolve to 127.0.0.1 reaches the port, but its requests say ``Host: evil.example:PORT``
  and are refused (HTTP 403).
- ``Origin``, when a browser sends one, must be ``http(s)://`` + an allowed host too, so
  another web page cannot open a conversation from a visitor's browser (HTTP 403).
- the token, when the server has one, on every route but the page itself (HTTP 401).

Allowed host names: for a loopback bind, ``localhost``, ``127.0.0.1`` and ``[::1]``; for a
specific address, that address; for a wildcard bind (``0.0.0.0``, ``::``) loopback, the
machine's host name and its addresses. ``--allow-host NAME`` (or ``NAME:PORT``) adds names,
e.g. the public name of a reverse proxy: without a port, any port is accepted for it.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from bargein.errors import BargeinError

__all__ = ["AccessPolicy", "Refusal", "is_loopback", "split_host"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::", "")

Refusal = tuple[int, str]
"""An HTTP status and a one-line reason."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, int | None]:
    """``"name:port"`` / ``"[v6]:port"`` / ``"name"`` -> (lower-case name without brackets,
    port or None). Raises ``ValueError`` for a malformed value or port."""
    value = value.strip()
    if not value or any(c in value for c in "/@?# \t"):
        raise ValueError(f"not a host: {value!r}")
    if value.startswith("["):
        name, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"not a host: {value!r}")
        port_text = rest[1:] if rest else None
    elif value.count(":") == 1:
        name, port_text = value.split(":")
    elif ":" in value:  # a bare IPv6 address
        name, port_text = value, None
    else:
        name, port_text = value, None
    if not name:
        raise ValueError(f"not a host: {value!r}")
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad port in {value!r}")
        port = int(port_text)
    return name.lower(), port


class AccessPolicy:
    """The server's access rules (see the module docstring).

    ``port`` is the port the server listens on; set it once known (``port=0`` binds any).
    """

    def __init__(self, *, bind_host: str, port: int, token: str | None,
                 allowed_hosts: Iterable[str] = ()) -> None:
        self.token = token or None
        self.port = port
        self.bound: set[str] = set()  # names accepted with the server's own port
        self.extra: dict[str, int | None] = {}  # --allow-host names: a port or any
        host = bind_host.strip("[]").lower()
        if host in WILDCARDS:
            self.bound.update(LOOPBACK_NAMES)
            self.bound.update(_own_names())
        elif is_loopback(host):
            self.bound.update(LOOPBACK_NAMES)
            self.bound.add(host)
        else:
            self.bound.add(host)
        for entry in allowed_hosts:
            try:
                name, port = split_host(entry)
            except ValueError as exc:
                raise BargeinError(f"--allow-host {entry!r}: {exc}") from None
            self.extra[name] = port

    @property
    def allowed(self) -> list[str]:
        """The allowed ``Host`` values, for messages and docs."""
        own = [f"{_bracket(n)}:{self.port}" for n in sorted(self.bound)]
        more = [_bracket(n) + (f":{p}" if p else ":*") for n, p in sorted(self.extra.items())]
        return own + more

    def host_allowed(self, value: str | None) -> bool:
        """True if a ``Host`` header (or the host part of an ``Origin``) names this server."""
        if not value:
            return False
        try:
            name, port = split_host(value)
        except ValueError:
            return False
        if name in self.extra:
            wanted = self.extra[name]
            return wanted is None or port == wanted
        return name in self.bound and port == self.port

    def origin_allowed(self, origin: str) -> bool:
        """True if a browser ``Origin`` is this server's own page."""
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and not parts.path.strip("/") \
            and self.host_allowed(parts.netloc)

    def token_given(self, path: str, headers: object) -> bool:
        """True if the request carries the token (``?token=`` or ``Authorization: Bearer``),
        or the server has none."""
        if self.token is None:
            return True
        given = parse_qs(urlsplit(path).query).get("token", [""])[0]
        auth = _header(headers, "Authorization") or ""
        if auth.startswith("Bearer "):
            given = auth[7:]
        return hmac.compare_digest(given.encode(), self.token.encode())

    def check(self, path: str, headers: object, *, needs_token: bool = True) -> Refusal | None:
        """None if the request may go on, else the HTTP status and reason to answer."""
        host = _header(headers, "Host")
        if not self.host_allowed(host):
            return 403, (f"Host {str(host)[:80]!r} is not this server (allowed: "
                         f"{', '.join(self.allowed)}; add names with --allow-host)")
        origin = _header(headers, "Origin")
        if origin is not None and not self.origin_allowed(origin):
            return 403, "cross-origin request refused"
        if needs_token and not self.token_given(path, headers):
            return 401, "a valid token is required"
        return None


def _header(headers: object, name: str) -> str | None:
    get = getattr(headers, "get", None)
    value = get(name) if callable(get) else None
    return value if isinstance(value, str) else None


def _bracket(name: str) -> str:
    return f"[{name}]" if ":" in name else name


def _own_names() -> set[str]:
    """This machine's host names and addresses (for a wildcard bind)."""
    names: set[str] = set()
    try:
        hostname = socket.gethostname()
        names.update({hostname.lower(), socket.getfqdn().lower()})
        for info in socket.getaddrinfo(hostname, None):
            names.add(str(info[4][0]).lower())
    except OSError:
        pass
    return names
