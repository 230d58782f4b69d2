"""Notifications through apprise, configured by URLs in `[alerts] urls`.

Each message goes to each URL separately so that a failure is attributed to the URL that
failed. Nothing here raises for a delivery problem: every attempt becomes a `Delivery` (ok or
not, with the reason apprise gave), which the caller prints and records. URLs are only ever
shown in apprise's privacy form (passwords and tokens masked).

Examples of URLs (see https://appriseit.com/services/):

    json://127.0.0.1:9000/hook                                   HTTP POST of {title, message, ...}
    mailto://smtp.example.com:25?from=evidence@example.com&to=security@example.com&mode=insecure
    mailto://user:pass@smtp.example.com:587?from=evidence@example.com&to=security@example.com
    slack://TokenA/TokenB/TokenC/#security
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

#: seconds one notification to one URL may take in all (apprise's own per-service limits also apply)
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Message:
    """One notification: `key` says what it is about (a control id)."""

    key: str
    title: str
    body: str


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one message to one URL."""

    key: str
    target: str
    ok: bool
    error: str = ""


def _asset() -> Any:
    import apprise

    # in-memory persistent store: nothing is written outside the output folder
    return apprise.AppriseAsset(app_id="evidence", app_desc="SOC 2 evidence drift alerts", storage_mode="memory")


#: generic webhooks whose path may itself be the secret (apprise's privacy form keeps paths)
_PATH_SECRET_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls"}


def _strip_query(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path
    if parts.scheme.lower() in _PATH_SECRET_SCHEMES and path.strip("/"):
        path = "/…"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def redact(url: str) -> str:
    """A URL safe to print or record: apprise's privacy form (secrets masked), without the
    query string; a URL apprise cannot parse is reduced to its scheme."""
    import apprise

    plugin: Any = apprise.Apprise.instantiate(url, asset=_asset())
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme}://(unparsable URL)"
    return _strip_query(str(plugin.url(privacy=True)))


def unusable(urls: Sequence[str]) -> list[str]:
    """The URLs (redacted) apprise cannot parse: configuration mistakes to report up front."""
    import apprise

    asset = _asset()
    return [redact(u) for u in urls if apprise.Apprise.instantiate(u, asset=asset) is None]


def send(messages: Sequence[Message], urls: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> list[Delivery]:
    """Send every message to every URL; one `Delivery` per (message, URL), never raising for
    a delivery problem."""
    import apprise

    if not messages or not urls:
        return []

    def to(url: str) -> list[Delivery]:
        asset = _asset()
        plugin: Any = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:
            why = "not a notification URL apprise can use (check its scheme and parameters)"
            return [Delivery(m.key, redact(url), False, why) for m in messages]
        target = _strip_query(str(plugin.url(privacy=True)))
        sender = apprise.Apprise(asset=asset)
        sender.add(plugin)
        return [_send_one(sender, m, target, timeout) for m in messages]

    # one worker per URL: apprise paces the messages to one service (e-mail: one every few
    # seconds), so URLs in parallel take as long as the slowest, not the sum
    with ThreadPoolExecutor(max_workers=min(len(urls), 8), thread_name_prefix="notify") as pool:
        per_url = list(pool.map(to, urls))
    return [d for ds in per_url for d in ds]


def _send_one(sender: Any, message: Message, target: str, timeout: float) -> Delivery:
    import apprise

    try:
        result = sender.notify(
            body=message.body, title=message.title, body_format=apprise.NotifyFormat.TEXT, timeout=timeout
        )
    except Exception as exc:  # a notifier bug must not lose the run: it becomes a failed delivery, logged
        log.warning("notification to %s raised %s", target, type(exc).__name__, exc_info=True)
        return Delivery(message.key, target, False, f"{type(exc).__name__}: {exc}")
    with result:
        if bool(result):
            return Delivery(message.key, target, True)
        reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        why = "; ".join(dict.fromkeys(reasons)) or f"not delivered ({result.status.name.lower()})"
    return Delivery(message.key, target, False, why)
