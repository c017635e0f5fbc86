"""Credentials in URLs and connection strings: found, taken out, or masked before anything
shows them.

One place for every URL the tool prints, logs or stores (store locations, Scrapyd node URLs,
error messages). Passwords are often not percent-encoded (``postgresql://u:p/ss@w@host/db``),
so the userinfo is found by hand, up to the *last* ``@``, rather than by ``urlsplit`` alone,
which would take ``p`` for a port and ``/ss@w@host/db`` for the path.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MASK = "***"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")
# ?password=... (playhouse.db_url hands query parameters to the driver) and libpq's
# key=value form: password=secret or password='a secret'.
_PASSWORD_PARAM = re.compile(
    r"(?P<key>(?:^|(?<=[?&;\s]))password\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|[^&#\s]*)",
    re.IGNORECASE,
)
_LIBPQ_KEY = re.compile(
    r"(?:^|\s)(?:host|hostaddr|port|dbname|user|password|passfile|sslmode|service|"
    r"connect_timeout|options|application_name)\s*=",
    re.IGNORECASE,
)


def _userinfo_span(url: str) -> tuple[int, int] | None:
    """(start, end) of the userinfo in url (without its closing "@"), or None if it has none."""
    match = _SCHEME.match(url)
    if not match:
        return None
    start = match.end()
    rest = url[start:]
    last_at = rest.rfind("@")
    if last_at < 0:
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:  # a password with "@" in it: the host follows the last one
        return start, start + authority.rfind("@")
    # No "@" before the first "/", "?" or "#": either a path with an "@" in it, or a password
    # with one of those characters. A password leaves an authority that is not host[:port].
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - ValueError for "u:p" (a password where a port would be)
    except ValueError:
        return start, start + last_at
    return None


def has_credentials(url: str) -> bool:
    """True if url carries a user name or password before its host."""
    return _userinfo_span(url) is not None


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """url without its userinfo, and the (decoded) user name and password it carried."""
    span = _userinfo_span(url)
    if span is None:
        return url, None, None
    start, end = span
    user, sep, password = url[start:end].partition(":")
    return url[:start] + url[end + 1 :], unquote(user) or None, unquote(password) if sep else None


def without_password(url: str) -> str:
    """url with the password taken out (the user name stays), in the userinfo and the query."""
    span = _userinfo_span(url)
    if span is not None:
        start, end = span
        user = url[start:end].partition(":")[0]
        url = url[:start] + (f"{user}@" if user else "") + url[end + 1 :]
    url = re.sub(r"([?&])password=[^&#]*&?", r"\1", url, flags=re.IGNORECASE)
    return url.rstrip("?&")


def passwords(url: str) -> list[str]:
    """Every password url carries, as written and decoded (to find echoes of it in messages)."""
    found: list[str] = []
    span = _userinfo_span(url)
    if span is not None:
        _, sep, password = url[span[0] : span[1]].partition(":")
        if sep:
            found += [password, unquote(password)]
    for match in _PASSWORD_PARAM.finditer(url):
        value = match.group("value").strip("'")
        found += [value, unquote(value)]
    return sorted({p for p in found if p}, key=len, reverse=True)


def mask_credentials(text: str) -> str:
    """text (a URL, a libpq string or a sentence holding URLs) with every password as ***."""
    if not text:
        return text
    if _SCHEME.match(text) and not re.search(r"\s", text):
        text = _mask_url(text)
    else:
        text = _URL_IN_TEXT.sub(lambda m: _mask_url(m.group()), text)
    return _PASSWORD_PARAM.sub(lambda m: m.group("key") + MASK, text)


def _mask_url(url: str) -> str:
    span = _userinfo_span(url)
    if span is None:
        return url
    start, end = span
    user, sep, _ = url[start:end].partition(":")
    if not re.fullmatch(r"[\w.~%+\-]*", user):  # not a URL we can read: hide it all
        return url[:start] + MASK + url[end:]
    return url[:start] + user + (f":{MASK}" if sep else "") + url[end:]


def looks_like_libpq_dsn(location: str) -> bool:
    """True for a libpq key=value connection string ("host=db user=app password=...")."""
    return "://" not in location and "=" in location and bool(_LIBPQ_KEY.search(location))
