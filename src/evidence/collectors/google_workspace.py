"""Google Workspace collector: the Admin SDK Directory API, read through a service account.

Authentication is google-auth's service-account flow with domain-wide delegation: the key
file's own `token_uri` is used for the token exchange, the delegated admin is the JWT
subject, and only read-only scopes are asked for (only those the wanted evidence needs).
The API is google-api-python-client built from the discovery document it ships
(`static_discovery=True`), so nothing is fetched at start; `api_endpoint` overrides the
host (proxies, tests). Every page of `users.list` is one evidence record; a failed page is
recorded with the cause and a remedy a Workspace admin can act on.

Retries: `HttpRequest.execute(num_retries=...)` retries 429, every 5xx, 403s whose reason is
`rateLimitExceeded`/`userRateLimitExceeded`, and connection errors/timeouts, with randomised
exponential backoff (it does not read `Retry-After`). The token exchange is retried by
google-auth itself (408, 429, 500, 503, 504; three attempts).

The access token lives only inside the credentials object: it is never recorded or logged.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httplib2  # type: ignore[import-untyped]
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.collectors.google_workspace_config import GoogleWorkspaceConfig
from evidence.config import Config, Section
from evidence.errortext import plain_error
from evidence.models import CollectionError, EvidenceRecord, Period, iso, utc_now
from evidence.sources.google_workspace import SOURCE, USER_FIELDS, USERS_LIST

log = logging.getLogger(__name__)

USER_READONLY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
#: evidence key -> the OAuth scopes that call needs (`evidence permissions` prints these)
PERMISSIONS: dict[str, tuple[str, ...]] = {USERS_LIST: (USER_READONLY_SCOPE,)}
DEFAULT_ENDPOINT = "https://admin.googleapis.com/"
_REQUIRED_KEY_FIELDS = ("client_email", "private_key", "token_uri")
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
_DWD_CONSOLE = "Google Admin console > Security > Access and data control > API controls > Domain-wide delegation"


@dataclass(frozen=True)
class ServiceAccountKey:
    """What evidence needs to know about the key file, besides the key itself."""

    path: Path
    info: Mapping[str, str] = field(repr=False)

    @property
    def client_email(self) -> str:
        return self.info["client_email"]

    @property
    def client_id(self) -> str:
        return self.info.get("client_id", "") or "(client ID not in the key file)"

    @property
    def project_id(self) -> str:
        return self.info.get("project_id", "") or "(the service account's project)"

    @property
    def token_uri(self) -> str:
        return self.info["token_uri"]


def load_service_account_key(path: Path) -> ServiceAccountKey:
    """Read and check a service-account JSON key; `CollectorFailure(user_error=True)` naming
    the file when it is missing, unreadable or not a service-account key."""

    def bad(code: str, why: str, remedy: str) -> CollectorFailure:
        return CollectorFailure(code, f"google_workspace.credentials_file {path}: {why}", remedy, user_error=True)

    get_key = (
        "create a JSON key for the service account (Google Cloud console > IAM & Admin > Service accounts > "
        "Keys > Add key) and set google_workspace.credentials_file to its path"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise bad("CredentialsFileNotFound", "file not found", get_key) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise bad("CredentialsFileUnreadable", f"cannot read the file ({why})",
                  "make the key file readable by the user evidence runs as") from None
    try:
        info = json.loads(text)
    except ValueError:
        raise bad("CredentialsFileInvalid", "not JSON, so not a service-account key", get_key) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else None
        raise bad("CredentialsFileInvalid",
                  f"not a service-account key (type {kind!r}, expected 'service_account')", get_key)
    missing = [f for f in _REQUIRED_KEY_FIELDS if not isinstance(info.get(f), str) or not info.get(f)]
    if missing:
        raise bad("CredentialsFileInvalid", f"the key lacks {', '.join(missing)}", get_key)
    return ServiceAccountKey(path, {k: v for k, v in info.items() if isinstance(v, str)})


class GoogleWorkspaceCollector(Collector):
    """Collects Google Workspace directory evidence through the Admin SDK."""

    source = SOURCE
    description = "Google Workspace Admin SDK Directory API (read-only, service account with domain-wide delegation)"
    permission_kind = "OAuth scope"
    permissions = PERMISSIONS
    title = "Google Workspace"
    config_model = GoogleWorkspaceConfig

    def __init__(self, config: Config, period: Period | None = None, *, num_retries: int = 5) -> None:
        super().__init__(config, period)
        #: retries of each API call on 429/5xx (google-api-python-client's backoff: up to ~1 min at 5)
        self.num_retries = num_retries

    def not_configured(self) -> str | None:
        if self.settings(GoogleWorkspaceConfig) is None:
            return "no [google_workspace] section in the configuration (customer_id, credentials_file, delegated_admin)"
        return None

    @classmethod
    def scope(cls, section: Section | None) -> list[tuple[str, str]]:
        if not isinstance(section, GoogleWorkspaceConfig):
            return []
        return [("Google Workspace tenant", section.customer_id)]

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        cfg = self.settings(GoogleWorkspaceConfig)
        if cfg is None:
            raise CollectorFailure("NotConfigured", self.not_configured() or "", "add a [google_workspace] section",
                                   user_error=True)
        wanted = wanted & frozenset(PERMISSIONS)
        if not wanted:
            return
        # the key file is checked before any network call: a missing or broken one is the user's to fix
        key = load_service_account_key(self.config.resolve(cfg.credentials_file))
        scopes = sorted({scope for k in wanted for scope in PERMISSIONS[k]})
        try:
            credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                dict(key.info), scopes=scopes, subject=cfg.delegated_admin
            )
        except ValueError as exc:
            raise CollectorFailure(
                "CredentialsFileInvalid",
                f"google_workspace.credentials_file {key.path}: the private key cannot be used ({exc})",
                "create a new JSON key for the service account and point credentials_file at it",
                user_error=True,
            ) from None
        directory = build(
            "admin",
            "directory_v1",
            credentials=credentials,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": cfg.api_endpoint} if cfg.api_endpoint else None,
        )
        session = _Session(self, sink, cfg, key, scopes, directory)
        if USERS_LIST in wanted:
            session.list_users()


class _Session:
    """One collection with one set of credentials: makes the calls and records each page."""

    def __init__(
        self,
        collector: GoogleWorkspaceCollector,
        sink: Sink,
        cfg: GoogleWorkspaceConfig,
        key: ServiceAccountKey,
        scopes: list[str],
        directory: Any,
    ) -> None:
        self.collector = collector
        self.sink = sink
        self.cfg = cfg
        self.key = key
        self.scopes = scopes
        self.directory = directory
        self.identity = f"{key.client_email} as {cfg.delegated_admin}"

    def _record(self, key: str, parameters: dict[str, Any], response: Any = None,
                error: CollectionError | None = None) -> None:
        service, _, operation = key.partition(".")
        self.sink.record(
            EvidenceRecord(
                source=SOURCE,
                service=service,
                operation=operation,
                parameters=parameters,
                account=self.cfg.customer_id,
                region="",
                identity=self.identity,
                collected_at=iso(utc_now()),
                response=response,
                error=error,
            )
        )

    def list_users(self) -> None:
        params: dict[str, Any] = {
            "customer": self.cfg.customer_id,
            "maxResults": 500,
            "orderBy": "email",
            "projection": "basic",
            "viewType": "admin_view",
            "fields": USER_FIELDS,
        }
        users = self.directory.users()
        request = users.list(**params)
        page, token, seen = 1, None, 0
        while request is not None:
            recorded = {**params, "page": page, **({"pageToken": token} if token else {})}
            try:
                response: dict[str, Any] = request.execute(num_retries=self.collector.num_retries)
            except (HttpError, RefreshError, TransportError, httplib2.HttpLib2Error, OSError,
                    http.client.HTTPException) as exc:  # e.g. IncompleteRead: a body cut short
                error = self.error_for(USERS_LIST, exc)
                log.warning("google_workspace %s page %d failed: %s", USERS_LIST, page, error.code)
                self._record(USERS_LIST, recorded, error=error)
                return
            self._record(USERS_LIST, recorded, response=response)
            seen += len(response.get("users", []))
            self.sink.progress(f"google_workspace: users.list page {page} ({seen} users)")
            next_token = response.get("nextPageToken")
            if next_token is not None and next_token == token:
                self._record(USERS_LIST, {**params, "page": page + 1, "pageToken": next_token}, error=CollectionError(
                    code="PagingLoop", message="the API returned the same page token twice",
                    remedy="run again; if it persists, report it to Google Workspace support",
                ))
                return
            token = next_token
            request = users.list_next(request, response)
            page += 1

    # --- errors a Workspace admin meets, with what to do about them ----------------------

    def _delegation(self) -> str:
        return (f"in the {_DWD_CONSOLE}, authorize client ID {self.key.client_id} ({self.key.client_email}) "
                f"for the scope {', '.join(self.scopes)}")

    def error_for(self, key: str, exc: Exception) -> CollectionError:
        """The cause of a failed call and its remedy. Never includes a token or a key."""
        if isinstance(exc, HttpError):
            return self._http_error(key, exc)
        if isinstance(exc, RefreshError):
            return self._token_error(exc)
        if isinstance(exc, TransportError):
            return CollectionError(
                code="TokenEndpointUnreachable", message=f"cannot reach {self.key.token_uri}: {exc}",
                remedy="check network access (proxy, firewall) to the key file's token_uri",
            )
        endpoint = self.cfg.api_endpoint or DEFAULT_ENDPOINT
        return CollectionError(
            code=type(exc).__name__,
            message=f"cannot reach the Admin SDK at {endpoint}: {exc}",
            remedy=f"check network access to {endpoint} (and google_workspace.api_endpoint); "
                   f"it still failed after {self.collector.num_retries} retries",
        )

    def _http_error(self, key: str, exc: HttpError) -> CollectionError:
        status = int(exc.resp.status)
        message, reason = str(exc.reason or ""), ""
        try:
            body = json.loads(exc.content.decode("utf-8"))
            err = body.get("error", {}) if isinstance(body, dict) else {}
            if isinstance(err, dict):
                message = str(err.get("message") or message)
                details = err.get("errors") or []
                if details and isinstance(details[0], dict):
                    reason = str(details[0].get("reason", ""))
        except (ValueError, AttributeError):
            pass
        code = f"{status} {reason}".strip() if reason else f"HTTP {status}"
        message = plain_error(message)  # a proxy's HTML error page: its title, not the page
        scopes = ", ".join(PERMISSIONS.get(key, ()))
        admin = self.cfg.delegated_admin
        project = self.key.project_id
        if status == 429 or status >= 500 or reason in _RATE_REASONS:
            remedy = (f"the Admin SDK still answered {status} after {self.collector.num_retries} retries; run again "
                      f"later, or raise the Admin SDK API quota in Google Cloud project {project}")
        elif status == 403:
            enable = f"enable the Admin SDK API (admin.googleapis.com) in Google Cloud project {project}"
            grant = self._delegation()
            first, second = (enable, grant) if reason == "accessNotConfigured" else (grant, enable)
            remedy = f"{first}; {second}; and make sure {admin} is an administrator allowed to read users"
        elif status == 401:
            remedy = (f"Google rejected the access token for {self.identity}; check the key file "
                      f"{self.key.path} is current and {self._delegation()}")
        elif status in (400, 404):
            remedy = (f"check google_workspace.customer_id ({self.cfg.customer_id!r}): use my_customer or the "
                      "customer ID shown in the Admin console (Account > Account settings)")
        else:
            remedy = f"see the Admin SDK error; the call needs {scopes}"
        return CollectionError(code=code, message=message or f"HTTP {status}", remedy=remedy)

    def _token_error(self, exc: RefreshError) -> CollectionError:
        data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        code = str(data.get("error") or "RefreshError")
        description = str(data.get("error_description") or (exc.args[0] if exc.args else exc))
        admin, sa = self.cfg.delegated_admin, self.key
        if code == "invalid_grant":
            remedy = (f"check that delegated_admin {admin} is an existing, active (not suspended) administrator of "
                      f"the Workspace domain, and that client ID {sa.client_id} ({sa.client_email}) has domain-wide "
                      f"delegation for {', '.join(self.scopes)}")
            if "signature" in description.lower():
                remedy += (f"; the key {sa.info.get('private_key_id', '')} may have been deleted or disabled: "
                           f"create a new key for {sa.client_email}")
        elif code == "unauthorized_client":
            remedy = f"domain-wide delegation is not set up for this client and scope: {self._delegation()}"
        elif code == "invalid_client":
            remedy = (f"the service account {sa.client_email} (client ID {sa.client_id}) was not found or is "
                      f"disabled; check the key file {sa.path}")
        else:
            remedy = f"the token endpoint {sa.token_uri} refused the service account; check the key file {sa.path}"
        return CollectionError(code=code, message=f"token request for {self.identity} failed: {description}",
                               remedy=remedy)
