"""One HTTP exchange with the safety caps: redirects followed by hand, body size and time limits.

:func:`http_get` knows nothing about politeness, robots or the database (see ``fetching.py``). It
returns an :class:`HttpResult` for any HTTP status and raises :class:`FetchRefused` when a cap or rule
stops the exchange (off-site redirect, too many redirects, body too large, unwanted content type).
Network failures surface as ``httpx.TransportError``.

Despite its name it also sends a small urlencoded POST (``form``): Hanweb's data proxy takes its paging
in a form body. A POST gets the same guards as a GET; a 301/302/303 after it is followed with a GET and
no body (what browsers do), a 307/308 repeats the POST with its body.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import httpx

from nianbao.crawler.netguard import request_deadline
from nianbao.crawler.urls import absolute, fetchable

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
METHOD_KEEPING_REDIRECTS = (307, 308)  # a POST stays a POST with its body; 301/302/303 turn it into a GET
MAX_FORM_BYTES = 4096  # an encoded POST form: a data-proxy form is ~200 bytes; more is a mistake or hostile
FORM_TYPE = "application/x-www-form-urlencoded"

# What each kind of request may receive. Listings include JSON/XML (API families); attachments are
# documents. Servers often send PDFs as octet-stream, so attachments accept it too.
HTML_TYPES = ("text/html", "application/xhtml+xml")
LISTING_TYPES = (
    *HTML_TYPES,
    "application/json",
    "text/json",
    "text/javascript",
    "application/javascript",
    "text/xml",
    "application/xml",
    "text/plain",
)
DOCUMENT_TYPES = (
    "application/pdf",
    "application/msword",
    "application/vnd.",
    "application/ofd",
    "application/zip",
    "application/x-zip-compressed",
    "application/x-rar",
    "application/rtf",
    "application/kswps",
    "application/wps",
    "application/octet-stream",
    "application/x-download",
    "application/force-download",
)
ACCEPTED_TYPES: dict[str, tuple[str, ...]] = {
    "listing": LISTING_TYPES,
    "page": HTML_TYPES,
    "robots": ("text/plain", "text/html"),
    "attachment": (*DOCUMENT_TYPES, *HTML_TYPES),
}


class FetchRefused(Exception):
    """A safety rule stopped the exchange; ``reason`` is a short code for metrics and Fetch rows."""

    def __init__(self, reason: str, detail: str, *, final_url: str | None = None, status: int | None = None):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.final_url = final_url
        self.status = status


def encode_form(form: Mapping[str, str]) -> bytes:
    """The urlencoded body of ``form`` (UTF-8, in the mapping's order); :class:`FetchRefused`
    (``form_too_large``) when it is longer than :data:`MAX_FORM_BYTES`."""
    body = urlencode(list(form.items())).encode("ascii")
    if len(body) > MAX_FORM_BYTES:
        raise FetchRefused("form_too_large", f"POST form of {len(body)} bytes encoded, limit {MAX_FORM_BYTES}")
    return body


@dataclass
class HttpResult:
    url: str
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_s: float
    redirects: list[str] = field(default_factory=list)
    method: str = "GET"  # of the request that got this answer (a POST becomes a GET after a 301/302/303)

    @property
    def media_type(self) -> str | None:
        return _media_of(self.headers)

    @property
    def filename(self) -> str | None:
        """The file name a ``Content-Disposition`` header gives (download scripts such as Hanweb's
        ``downfile.jsp`` name the document only there)."""
        return disposition_filename(self.headers.get("content-disposition"))

    @property
    def http_charset(self) -> str | None:
        for part in str(self.headers.get("content-type") or "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            cleaned = value.strip("\"' ").lower()
            if key.lower() == "charset" and cleaned:
                return cleaned
        return None


def media_type_ok(kind: str, media_type: str | None) -> bool:
    """Missing types pass (many gov servers send none; the body is sniffed downstream)."""
    if media_type is None:
        return True
    return any(media_type.startswith(prefix) for prefix in ACCEPTED_TYPES[kind])


SENT_EVENT = "http11.send_request_headers.complete"  # httpcore trace event


def _sent_tracer(on_sent: Callable[[], None]) -> Callable[[str, dict[str, Any]], None]:
    def trace(event: str, _info: dict[str, Any]) -> None:
        if event == SENT_EVENT:
            on_sent()

    return trace


def http_get(
    client: httpx.Client,
    url: str,
    *,
    kind: str,
    headers: dict[str, str],
    host_ok: Callable[[str], bool],
    max_redirects: int,
    max_bytes: int,
    deadline_s: float,
    on_sent: Callable[[], None] | None = None,
    max_encodings: int = 2,
    form: Mapping[str, str] | None = None,
) -> HttpResult:
    """GET ``url``, following at most ``max_redirects`` redirects to hosts ``host_ok`` accepts; with
    ``form``, POST it urlencoded instead (at most :data:`MAX_FORM_BYTES`, else refused before anything
    is sent). After a POST a 301/302/303 is followed with a GET without body, a 307/308 with the POST.

    ``deadline_s`` bounds the whole exchange, redirects, connects, headers and body included (every
    socket operation is bounded by what is left of it); the body is decompressed here, at most
    ``max_encodings`` stacked encodings, and ``max_bytes`` caps the decoded total. A URL or redirect that
    cannot be fetched (``javascript:``, ``mailto:``, port 99999, unparseable) is refused, never raised.

    ``on_sent`` is called when a request head has been written to the socket (each hop): the host
    limiter spaces requests from that moment, not from when the slot was granted."""
    started = time.monotonic()
    body = encode_form(form) if form is not None else None
    try:
        with request_deadline(started + deadline_s):
            return _get(
                client,
                url,
                kind=kind,
                headers={"Accept-Encoding": "gzip, deflate", **headers},
                form=body,
                host_ok=host_ok,
                max_redirects=max_redirects,
                max_bytes=max_bytes,
                max_encodings=max_encodings,
                started=started,
                deadline_s=deadline_s,
                on_sent=on_sent,
            )
    except httpx.TimeoutException as exc:
        if time.monotonic() - started < deadline_s - 0.05:
            raise  # an ordinary connect or read timeout
        raise FetchRefused("deadline", f"request took longer than {deadline_s:g}s (connect, headers and body)") from exc


def _get(
    client: httpx.Client,
    url: str,
    *,
    kind: str,
    headers: dict[str, str],
    host_ok: Callable[[str], bool],
    max_redirects: int,
    max_bytes: int,
    max_encodings: int,
    started: float,
    deadline_s: float,
    on_sent: Callable[[], None] | None,
    form: bytes | None = None,
) -> HttpResult:
    current = url
    redirects: list[str] = []
    if not fetchable(url):
        raise FetchRefused("bad_url", f"not a fetchable http(s) URL: {url[:200]!r}", final_url=url)
    while True:
        method = "GET" if form is None else "POST"
        sent = headers if form is None else {**headers, "Content-Type": FORM_TYPE}
        try:
            request = client.build_request(method, current, headers=sent, content=form)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchRefused("bad_url", f"{exc}: {current[:200]!r}", final_url=current) from exc
        if on_sent is not None:
            request.extensions["trace"] = _sent_tracer(on_sent)
        try:
            response = client.send(request, stream=True, follow_redirects=False)
        except (httpx.InvalidURL, httpx.RemoteProtocolError) as exc:
            # httpx builds the next request of a redirect even when not following it, and raises on a
            # Location it cannot parse (javascript:, [::1, port 99999) before the response is returned.
            if isinstance(exc, httpx.RemoteProtocolError) and "location" not in str(exc).lower():
                raise
            raise FetchRefused("bad_redirect", f"unusable Location: {exc}", final_url=current) from exc
        try:
            if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                target = absolute(current, response.headers["location"])
                if target is None:
                    raise FetchRefused(
                        "bad_redirect",
                        f"unusable Location {response.headers['location']!r}",
                        final_url=current,
                        status=response.status_code,
                    )
                if len(redirects) >= max_redirects:
                    raise FetchRefused(
                        "too_many_redirects",
                        f"more than {max_redirects} redirects",
                        final_url=current,
                        status=response.status_code,
                    )
                if not host_ok(target):
                    raise FetchRefused(
                        "offsite_redirect",
                        f"redirect to a host not allowed: {target}",
                        final_url=current,
                        status=response.status_code,
                    )
                redirects.append(target)
                current = target
                if response.status_code not in METHOD_KEEPING_REDIRECTS:
                    form = None  # a POST answered 301/302/303 goes on as a GET without body
                # Conditional headers stay: the stored validators came from the final response of
                # this same chain, so they still describe the document at its end.
                continue
            if response.status_code == 200 and not media_type_ok(kind, _media(response)):
                raise FetchRefused(
                    "unwanted_type",
                    f"content type {_media(response)} not accepted for {kind}",
                    final_url=current,
                    status=200,
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes * 4:
                # Compressed bodies can expand, so the declared length is only a coarse early stop.
                raise FetchRefused(
                    "too_large", f"declared {declared} bytes", final_url=current, status=response.status_code
                )
            body = _read_capped(
                response,
                max_bytes=max_bytes,
                max_encodings=max_encodings,
                started=started,
                deadline_s=deadline_s,
                url=current,
            )
        finally:
            response.close()
        return HttpResult(
            url=url,
            final_url=current,
            status=response.status_code,
            headers=response.headers,
            body=body,
            elapsed_s=time.monotonic() - started,
            redirects=redirects,
            method=method,
        )


def _media(response: httpx.Response) -> str | None:
    return _media_of(response.headers)


def _media_of(headers: httpx.Headers) -> str | None:
    value = str(headers.get("content-type") or "")
    return value.split(";", 1)[0].strip().lower() or None


def disposition_filename(value: str | None) -> str | None:
    """``filename*`` (RFC 6266/8187) or ``filename`` of a Content-Disposition value, percent-decoded
    when it is percent-encoded (UTF-8, else GBK), without any directory part; None when absent."""
    if not value:
        return None
    params: dict[str, str] = {}
    for part in value.split(";")[1:]:
        key, sep, raw = part.strip().partition("=")
        if sep:
            params[key.strip().lower()] = raw.strip().strip('"')
    name: str | None = None
    if "filename*" in params:
        charset, _, rest = params["filename*"].partition("'")
        encoded = rest.partition("'")[2]
        name = _percent_decoded(encoded, (charset or "utf-8",))
    if not name and params.get("filename"):
        raw_name = params["filename"]
        name = _percent_decoded(raw_name, ("utf-8", "gbk")) if "%" in raw_name else raw_name
    if not name:
        return None
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip() or None


def _percent_decoded(text: str, charsets: tuple[str, ...]) -> str | None:
    for charset in charsets:
        try:
            return unquote(text, encoding=charset, errors="strict")
        except (LookupError, UnicodeDecodeError):
            continue
    return None


def _read_capped(
    response: httpx.Response, *, max_bytes: int, max_encodings: int, started: float, deadline_s: float, url: str
) -> bytes:
    """Read and decompress the body, stopping at ``max_bytes`` of decoded output or the deadline
    (decompression bombs and slow-drip servers both end here).

    The body is read raw and inflated here, a bounded piece at a time through every stacked encoding,
    so that ``gzip, gzip`` cannot expand a 12 KB body to gigabytes inside one chunk before it is counted."""
    layers = _decoders(response, max_encodings=max_encodings, url=url)
    chunks: list[bytes] = []
    total = 0
    pieces: Iterator[bytes] = response.iter_raw()
    for layer in layers:
        pieces = layer.run(pieces)
    for chunk in pieces:
        total += len(chunk)
        if total > max_bytes:
            raise FetchRefused(
                "too_large",
                f"body exceeds {max_bytes} bytes after decompression",
                final_url=url,
                status=response.status_code,
            )
        if time.monotonic() - started > deadline_s:
            raise FetchRefused(
                "deadline", f"request took longer than {deadline_s:.0f}s", final_url=url, status=response.status_code
            )
        chunks.append(chunk)
    return b"".join(chunks)


_PIECE = 64 * 1024  # most decoded bytes one inflate step may produce


class _Inflate:
    """A streaming gzip or deflate decoder that yields at most ``_PIECE`` bytes per step."""

    def __init__(self, encoding: str, url: str, status: int) -> None:
        self.encoding, self.url, self.status = encoding, url, status

    def _new(self, first: bytes) -> Any:
        if self.encoding == "gzip":
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        # "deflate" is zlib-wrapped by the standard, raw by some servers: the first byte tells.
        return zlib.decompressobj(zlib.MAX_WBITS if first[:1] and (first[0] & 0x0F) == 8 else -zlib.MAX_WBITS)

    def run(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        inflater: Any = None
        try:
            for data in pieces:
                while data:
                    if inflater is None:
                        inflater = self._new(data)
                    out = inflater.decompress(data, _PIECE)
                    data = inflater.unconsumed_tail
                    if inflater.eof:  # a concatenated gzip member follows, or trailing garbage
                        data = inflater.unused_data if self.encoding == "gzip" else b""
                        inflater = None
                    if out:
                        yield out
            if inflater is not None:
                while tail := inflater.decompress(inflater.unconsumed_tail, _PIECE):
                    yield tail
        except zlib.error as exc:
            raise FetchRefused(
                "bad_encoding", f"{self.encoding} body does not decode: {exc}", final_url=self.url, status=self.status
            ) from exc


def _decoders(response: httpx.Response, *, max_encodings: int, url: str) -> list[_Inflate]:
    """The decoders of ``Content-Encoding`` in decoding order (the last applied comes off first)."""
    header = ",".join(response.headers.get_list("content-encoding"))
    encodings = [e.strip().lower() for e in header.split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    if len(encodings) > max_encodings:
        raise FetchRefused(
            "too_many_encodings",
            f"{len(encodings)} stacked content encodings ({header[:80]}), limit {max_encodings}",
            final_url=url,
            status=response.status_code,
        )
    layers = []
    for encoding in reversed(encodings):
        if encoding in ("x-gzip", "gzip"):
            layers.append(_Inflate("gzip", url, response.status_code))
        elif encoding == "deflate":
            layers.append(_Inflate("deflate", url, response.status_code))
        else:
            detail = f"unsupported content encoding {encoding[:40]!r}"
            raise FetchRefused("bad_encoding", detail, final_url=url, status=response.status_code)
    return layers
