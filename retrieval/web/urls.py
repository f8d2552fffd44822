"""Which URLs may be fetched: :func:`check_url` (an absolute ``http``/``https`` URL with a
host), :func:`is_http_url`, and :func:`check_public_address` (a host that resolves to no
loopback, private or link-local address).
"""

from __future__ import annotations

import ipaddress
import socket

import httpx

from retrieval.web.errors import FetchError

__all__ = ["SCHEMES", "check_public_address", "check_url", "is_http_url"]

SCHEMES = frozenset({"http", "https"})


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute ``http`` or ``https`` URL with a host."""
    try:
        check_url(url)
    except FetchError:
        return False
    return True


def check_url(url: str, schemes: frozenset[str] = SCHEMES) -> httpx.URL:
    """``url`` parsed, without its fragment.

    Raises:
        FetchError: It is not an absolute URL with a host and one of ``schemes`` (by default
            ``http``/``https``: not ``file:``, ``data:``, ``ftp:``, ``javascript:``, nor a bare
            ``example.com/page``).
    """
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(url, f"not a valid URL ({exc})") from None
    if parsed.scheme not in schemes:
        shown = f"{parsed.scheme}:" if parsed.scheme else "no scheme"
        only = " and ".join(sorted(schemes)) + (" are" if len(schemes) > 1 else " is")
        raise FetchError(url, f"not an http(s) URL ({shown}); only {only} fetched")
    if not parsed.host:
        raise FetchError(url, "not a valid URL (no host)")
    return parsed.copy_with(fragment=None)


def check_public_address(url: str, target: httpx.URL) -> None:
    """Refuse ``target`` if its host resolves to a non-public address (loopback, private,
    link-local, the cloud metadata service): a hostile feed could point there.

    Checked when the host is resolved, before the request: a DNS answer that changes between
    the check and the connection is not caught.

    Raises:
        FetchError: For ``url`` (the URL asked for), naming the host and its address.
    """
    host = target.host
    try:
        found = socket.getaddrinfo(host, target.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return  # the request itself fails and says why ("host not found")
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).partition("%")[0])
        if not ip.is_global:
            where = "" if host == str(ip) else f" resolves to {ip}, which"
            raise FetchError(
                url,
                f"{host}{where} is not a public address (loopback, private or "
                "link-local); refused unless private addresses are allowed "
                "(FetchConfig.allow_private_addresses)",
            )
