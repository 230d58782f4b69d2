"""Local fake of the Google Workspace Admin SDK (Directory users.list + OAuth token endpoint),
for ``evidence demo`` and the tests.

Serves the real google-auth service-account flow and google-api-python-client (with its
shipped discovery document) on 127.0.0.1 only. Every users payload served is recorded; a
validator the caller supplies (the tests check against the discovery document's schemas, in
``tests/fakes``) checks the seeded users and, on demand, every payload served.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from evidence.demo.workspace_fields import load_directory_discovery, parse_fields, select_fields

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # google-auth always sets this `aud`
USER_READONLY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
USER_SCOPES = frozenset({USER_READONLY_SCOPE, "https://www.googleapis.com/auth/admin.directory.user"})
USERS_PATH = "/admin/directory/v1/users"
NEVER_LOGGED_IN = "1970-01-01T00:00:00.000Z"
DEFAULT_CUSTOMER_KEY = "C01evd3nc"
REQUIRED_USER_FIELDS = (
    "primaryEmail", "id", "isEnrolledIn2Sv", "isEnforcedIn2Sv", "isAdmin",
    "suspended", "archived", "creationTime", "lastLoginTime",
)
_NOT_AUTHORIZED = "Not Authorized to access this resource/api"
_DEFAULT_ERRORS: dict[int, tuple[str, str, str]] = {  # status -> (message, reason, domain)
    400: ("Bad Request", "badRequest", "global"),
    401: ("Invalid Credentials", "authError", "global"),
    403: (_NOT_AUTHORIZED, "forbidden", "global"),
    404: ("Resource Not Found: customer", "notFound", "global"),
    429: ("Quota exceeded for quota metric 'Queries' of service 'admin.googleapis.com'.",
          "rateLimitExceeded", "usageLimits"),
    500: ("Internal error encountered.", "backendError", "global"),
    503: ("The service is currently unavailable.", "backendError", "global"),
}


def google_error(status: int, message: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """Build a Google JSON API error body (``{"error": {"code", "message", "errors"}}``)."""
    default = _DEFAULT_ERRORS.get(status, (HTTPStatus(status).phrase, "error", "global"))
    msg = message or default[0]
    return {"error": {"code": status, "message": msg,
                      "errors": [{"message": msg, "domain": default[2], "reason": reason or default[1]}]}}


def make_user(email: str, **overrides: Any) -> dict[str, Any]:
    """A Directory API User resource with realistic defaults for the required fields."""
    user: dict[str, Any] = {
        "kind": "admin#directory#user",
        "id": str(int(hashlib.sha256(email.encode()).hexdigest()[:16], 16) % 10**21).zfill(21),
        "primaryEmail": email,
        "name": {"givenName": email.split("@")[0].title(), "familyName": "Example",
                 "fullName": f"{email.split('@')[0].title()} Example"},
        "isAdmin": False, "isDelegatedAdmin": False,
        "isEnrolledIn2Sv": True, "isEnforcedIn2Sv": False,
        "suspended": False, "archived": False, "changePasswordAtNextLogin": False,
        "creationTime": "2023-01-10T09:00:00.000Z", "lastLoginTime": "2024-05-01T12:00:00.000Z",
        "orgUnitPath": "/", "isMailboxSetup": True,
        "includeInGlobalAddressList": True,
    }
    user.update(overrides)
    return user


def make_service_account_info(
    token_uri: str,
    client_email: str = "evidence-collector@evidence-demo.iam.gserviceaccount.com",
    client_id: str = "100000000000000000001",
    project_id: str = "evidence-demo",
) -> dict[str, str]:
    """Generate an RSA key and return it shaped exactly like a Google service-account JSON key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {
        "type": "service_account", "project_id": project_id, "private_key_id": secrets.token_hex(20),
        "private_key": pem, "client_email": client_email, "client_id": client_id,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + urllib.parse.quote(client_email),
        "universe_domain": "googleapis.com",
    }


#: checks a payload against the named discovery schema (``User``, ``Users``); raises AssertionError
SchemaValidator = Callable[[str, Any], None]
#: (status, body or None for the default error body, headers) answered instead of the endpoint
Interception = tuple[int, dict[str, Any] | None, dict[str, str]]


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class RecordedRequest:
    """One request as the fake saw it. Token requests keep decoded claims, never the assertion."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int = 0
    claims: dict[str, Any] | None = None


class FakeWorkspace:
    """A loopback-only fake of the Admin SDK Directory API and Google's OAuth token endpoint."""

    def __init__(
        self,
        users: list[dict[str, Any]],
        *,
        customer_id: str = "my_customer",
        page_size: int = 100,
        admins: set[str] | None = None,
        client_email: str | None = None,
        client_id: str | None = None,
        service_account_info: dict[str, str] | None = None,
        validator: SchemaValidator | None = None,
    ) -> None:
        self.discovery = load_directory_discovery()
        self.validator = validator
        #: the real customer ID users carry (`my_customer` is only an alias of it)
        self.customer_key = customer_id if customer_id != "my_customer" else DEFAULT_CUSTOMER_KEY
        self.users: list[dict[str, Any]] = []
        for user in users:
            missing = [f for f in REQUIRED_USER_FIELDS if f not in user]
            if missing:
                raise ValueError(f"user {user.get('primaryEmail')!r} lacks {missing}")
            served = {"kind": "admin#directory#user", "customerId": self.customer_key, **user}
            served.setdefault("etag", '"' + hashlib.sha256(json.dumps(served, sort_keys=True).encode())
                              .hexdigest() + '"')
            if validator is not None:
                validator("User", served)
            self.users.append(served)
        self.customer_id = customer_id
        self.page_size = page_size
        self.admins = admins if admins is not None else {
            u["primaryEmail"] for u in self.users if u["isAdmin"] and not u["suspended"]}
        self._info = service_account_info or make_service_account_info(
            "", client_email or "evidence-collector@evidence-demo.iam.gserviceaccount.com",
            client_id or "100000000000000000001")
        if client_email and client_email != self._info["client_email"]:
            raise ValueError("client_email does not match service_account_info")
        self.client_email = self._info["client_email"]
        self.client_id = client_id or self._info["client_id"]
        key = serialization.load_pem_private_key(self._info["private_key"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self._public_key = key.public_key()
        self.requests: list[RecordedRequest] = []
        self.served: list[tuple[str, Any]] = []
        self.tokens: dict[str, dict[str, Any]] = {}  # access token -> {"sub", "scopes"}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------
    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FakeWorkspace already started")
        fake = self

        class Handler(_Handler):
            workspace = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-workspace", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeWorkspace not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}token"

    @property
    def api_endpoint(self) -> str:
        return self.base_url

    def service_account_info(self) -> dict[str, str]:
        """The trusted service-account key file, with token_uri pointing at this fake."""
        return {**self._info, "client_id": self.client_id, "token_uri": self.token_uri}

    # hooks and checks -------------------------------------------------------
    def _intercept(self, path: str) -> Interception | None:
        """An answer that replaces the endpoint's for this request, or None. The demo answers
        every request normally; tests override this to inject faults."""
        return None

    def assert_served_payloads_valid(self, validator: SchemaValidator | None = None) -> None:
        """Check every payload served with ``validator`` (default: the fake's own)."""
        check = validator if validator is not None else self.validator
        if check is None:
            raise RuntimeError("FakeWorkspace has no schema validator: pass one")
        with self._lock:
            served = list(self.served)
        for schema_name, payload in served:
            check(schema_name, payload)

    # request handling (called from server threads) --------------------------
    def _token(self, form: dict[str, list[str]], rec: RecordedRequest) -> tuple[int, dict[str, Any]]:
        def grant_error(error: str, description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"error": error, "error_description": description}

        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return grant_error("unsupported_grant_type", "Invalid grant_type: ")
        try:
            head_b64, body_b64, sig_b64 = form["assertion"][0].split(".")
            header = json.loads(_b64decode(head_b64))
            claims: dict[str, Any] = json.loads(_b64decode(body_b64))
            if not isinstance(header, dict) or not isinstance(claims, dict):
                raise ValueError("JWT header and claims must be objects")
        except (KeyError, ValueError):
            return grant_error("invalid_request", "Invalid JWT: not a well-formed JWT")
        rec.claims = {k: claims.get(k) for k in ("iss", "sub", "aud", "scope", "iat", "exp")}
        try:
            if header.get("alg") != "RS256":
                raise InvalidSignature
            self._public_key.verify(_b64decode(sig_b64), f"{head_b64}.{body_b64}".encode(),
                                    padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return grant_error("invalid_grant", "Invalid JWT Signature.")
        if claims.get("iss") != self.client_email:
            return grant_error("invalid_client", "The OAuth client was not found.")
        if claims.get("aud") not in (GOOGLE_TOKEN_AUDIENCE, self.token_uri):
            return grant_error("invalid_grant", "Invalid JWT: Failed audience check.")
        now, iat, exp = time.time(), claims.get("iat", 0), claims.get("exp", 0)
        if not (isinstance(iat, int) and isinstance(exp, int) and 0 < exp - iat <= 3600
                and iat <= now + 300 and exp >= now - 300):
            return grant_error("invalid_grant", "Invalid JWT: Token must be a short-lived token "
                               "(60 minutes) and in a reasonable timeframe. Check your iat and exp "
                               "values in the JWT claim.")
        if claims.get("sub") not in self.admins:
            return grant_error("invalid_grant", "Not a valid email or user ID.")
        scopes = str(claims.get("scope") or "").split()
        if not scopes:
            return grant_error("invalid_scope", "Empty or missing scope not allowed.")
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = {"sub": claims["sub"], "scopes": frozenset(scopes)}
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _list_users(self, auth: str, q: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            grant = self.tokens.get(auth.removeprefix("Bearer ").strip()) if auth else None
        if grant is None:
            return 401, google_error(401, "Request had invalid authentication credentials. Expected "
                                     "OAuth 2 access token, login cookie or other valid "
                                     "authentication credential.")
        if not grant["scopes"] & USER_SCOPES:
            return 403, google_error(403)
        param = {k: v[-1] for k, v in q.items()}
        for unsupported in ("query", "event", "showDeleted", "customFieldMask"):
            if unsupported in param:
                return 400, google_error(400, f"Invalid Input: fake does not support {unsupported}",
                                         "invalid")
        try:
            selection = parse_fields(param["fields"], "Users", self.discovery) if "fields" in param else None
        except ValueError as exc:
            return 400, google_error(400, str(exc), "invalidParameter")
        users = self.users
        if "customer" in param:
            if param["customer"] not in ("my_customer", self.customer_id, self.customer_key):
                return 400, google_error(400)
        elif "domain" in param:
            users = [u for u in users if u["primaryEmail"].endswith("@" + param["domain"])]
            if not users:
                return 404, google_error(404, "Domain not found.", "notFound")
        else:
            return 400, google_error(400)
        try:
            max_results = int(param.get("maxResults", "100"))
            offset = int(_b64decode(param["pageToken"])) if "pageToken" in param else 0
        except ValueError:
            return 400, google_error(400, "Invalid Input", "invalid")
        if not 1 <= max_results <= 500 or offset < 0:
            return 400, google_error(400, "Invalid Input", "invalid")
        order = param.get("orderBy")
        if order is not None:
            if order == "email":
                key = "primaryEmail"
                users = sorted(users, key=lambda u: str(u[key]).lower())
            elif order in ("familyName", "givenName"):
                users = sorted(users, key=lambda u: str(u.get("name", {}).get(order, "")).lower())
            else:
                return 400, google_error(400, "Invalid Input: orderBy", "invalid")
            if param.get("sortOrder") == "DESCENDING":
                users = users[::-1]
        end = offset + min(max_results, self.page_size)
        payload: dict[str, Any] = {"kind": "admin#directory#users"}
        payload["etag"] = '"' + hashlib.sha256(f"{offset}:{end}:{order}".encode()).hexdigest() + '"'
        if users[offset:end]:  # like Google, the key is absent for an empty page
            payload["users"] = [dict(u) for u in users[offset:end]]
        if end < len(users):
            payload["nextPageToken"] = base64.urlsafe_b64encode(str(end).encode()).decode().rstrip("=")
        if selection is not None:
            payload = select_fields(payload, selection)
        with self._lock:
            self.served.append(("Users", payload))
        return 200, payload


class _Handler(BaseHTTPRequestHandler):
    workspace: FakeWorkspace
    server_version = "ESF"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        self._dispatch(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _dispatch(self, raw_body: bytes) -> None:
        fake = self.workspace
        url = urllib.parse.urlsplit(self.path)
        rec = RecordedRequest(self.command, url.path, urllib.parse.parse_qs(url.query))
        with fake._lock:
            fake.requests.append(rec)
        headers: dict[str, str] = {}
        intercepted = fake._intercept(url.path)
        if intercepted is not None:
            status, injected_body, headers = intercepted
            body: dict[str, Any] = injected_body if injected_body is not None else (
                {"error": "temporarily_unavailable", "error_description": HTTPStatus(status).phrase}
                if url.path == "/token" else google_error(status))
        elif url.path == "/token" and self.command == "POST":
            status, body = fake._token(urllib.parse.parse_qs(raw_body.decode()), rec)
        elif url.path == USERS_PATH and self.command == "GET":
            status, body = fake._list_users(self.headers.get("Authorization", ""), rec.query)
            if status == 401:
                headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        else:
            status, body = 404, google_error(404, f"Not Found: {url.path}", "notFound")
        rec.status = status
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
