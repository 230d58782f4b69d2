"""Local fake of the Google Workspace Admin SDK (Directory users.list + OAuth token endpoint).

Serves the real google-auth service-account flow and google-api-python-client (with its
shipped discovery document) on 127.0.0.1 only. Every users payload served is recorded
and can be validated against the discovery document's ``Users`` schema.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
import json
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
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


def load_directory_discovery() -> dict[str, Any]:
    """The admin directory_v1 discovery document shipped inside google-api-python-client."""
    doc = importlib.resources.files("googleapiclient.discovery_cache").joinpath(
        "documents/admin.directory_v1.json")
    result: dict[str, Any] = json.loads(doc.read_text(encoding="utf-8"))
    return result


def validate_discovery(payload: Any, schema_name: str, discovery_doc: dict[str, Any]) -> None:
    """Validate ``payload`` against ``discovery_doc["schemas"][schema_name]``.

    Raises AssertionError naming the field path on the first mismatch; properties the
    schema does not declare are mismatches unless it has ``additionalProperties``.
    """
    schemas: dict[str, Any] = discovery_doc["schemas"]
    _check(payload, schemas[schema_name], schema_name, schemas)


def _check(value: Any, schema: dict[str, Any], path: str, schemas: dict[str, Any]) -> None:
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type", "any")

    def fail(why: str) -> NoReturn:
        raise AssertionError(f"{path}: {why} (got {value!r:.80})")

    if kind == "any":
        return
    if kind == "object":
        if not isinstance(value, dict):
            fail("expected object")
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                _check(item, props[key], f"{path}.{key}", schemas)
            elif extra is not None:
                _check(item, extra, f"{path}[{key!r}]", schemas)
            else:
                raise AssertionError(f"{path}.{key}: property not in discovery schema")
    elif kind == "array":
        if not isinstance(value, list):
            fail("expected array")
        for i, item in enumerate(value):
            _check(item, schema.get("items", {}), f"{path}[{i}]", schemas)
    elif kind == "string":
        if not isinstance(value, str):
            fail("expected string")
        fmt = schema.get("format")
        if fmt == "date-time" and not _RFC3339.match(value):
            fail("expected RFC3339 date-time")
        if fmt in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
            fail(f"expected {fmt} string")
        if "enum" in schema and value not in schema["enum"]:
            fail(f"expected one of {schema['enum']}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            fail("expected boolean")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            fail("expected integer")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail("expected number")
    else:
        fail(f"unsupported schema type {kind!r}")


#: a parsed `fields` selector: name -> sub-selection, or None for the whole value
FieldTree = dict[str, "FieldTree | None"]
_FIELD_PATH = re.compile(r"[A-Za-z_$][\w$]*(?:/[A-Za-z_$][\w$]*)*")


def _merge_fields(tree: FieldTree, key: str, node: FieldTree | None) -> None:
    if key not in tree:
        tree[key] = node
        return
    have = tree[key]
    if have is None or node is None:
        tree[key] = None
        return
    for k, v in node.items():
        _merge_fields(have, k, v)


def parse_fields(selector: str, schema_name: str, discovery_doc: dict[str, Any]) -> FieldTree:
    """Parse a partial-response selector (``kind,users(primaryEmail,name/fullName)``) and check
    every name exists in the discovery schema; ValueError like Google's "Invalid field selection"."""
    pos = 0

    def items() -> FieldTree:
        nonlocal pos
        tree: FieldTree = {}
        while True:
            m = _FIELD_PATH.match(selector, pos)
            if m is None:
                raise ValueError(f"Invalid field selection {selector[pos:] or selector!r}")
            pos = m.end()
            node: FieldTree | None = None
            if selector.startswith("(", pos):
                pos += 1
                node = items()
                if not selector.startswith(")", pos):
                    raise ValueError(f"Invalid field selection {selector!r}: unbalanced parentheses")
                pos += 1
            names = m.group().split("/")
            for name in reversed(names[1:]):
                node = {name: node}
            _merge_fields(tree, names[0], node)
            if not selector.startswith(",", pos):
                return tree
            pos += 1

    tree = items()
    if pos != len(selector):
        raise ValueError(f"Invalid field selection {selector[pos:]!r}")
    schemas: dict[str, Any] = discovery_doc["schemas"]
    _check_fields(tree, schemas[schema_name], schemas)
    return tree


def _check_fields(tree: FieldTree, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    while "$ref" in schema or schema.get("type") == "array":
        schema = schemas[schema["$ref"]] if "$ref" in schema else schema.get("items", {})
    props: dict[str, Any] = schema.get("properties", {})
    for key, sub in tree.items():
        if key not in props and schema.get("additionalProperties") is None:
            raise ValueError(f"Invalid field selection {key}")
        if sub is not None:
            _check_fields(sub, props.get(key) or schema.get("additionalProperties") or {}, schemas)


def select_fields(value: Any, tree: FieldTree | None) -> Any:
    """The part of ``value`` a parsed selector asks for (lists are selected item by item)."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [select_fields(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: select_fields(value[k], sub) for k, sub in tree.items() if k in value}
    return value


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


@dataclass
class _Injection:
    path_prefix: str
    status: int
    remaining: int  # -1 = forever
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0  # matching requests still to let through before this one applies


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
    ) -> None:
        self.discovery = load_directory_discovery()
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
            validate_discovery(served, "User", self.discovery)
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
        self._injections: list[_Injection] = []
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

    def __enter__(self) -> FakeWorkspace:
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

    # controls ---------------------------------------------------------------
    def inject(self, path_prefix: str, status: int, times: int = 1,
               body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
               after: int = 0) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with
        ``status`` (``times=-1``: forever), once ``after`` of them have been served normally
        (e.g. fail from the third page on). Default body is Google's error body for it."""
        with self._lock:
            self._injections.append(_Injection(path_prefix, status, times, body, dict(headers or {}), after))

    def clear_injections(self) -> None:
        with self._lock:
            self._injections.clear()

    def assert_served_payloads_valid(self) -> None:
        with self._lock:
            served = list(self.served)
        for schema_name, payload in served:
            validate_discovery(payload, schema_name, self.discovery)

    # request handling (called from server threads) --------------------------
    def _take_injection(self, path: str) -> _Injection | None:
        with self._lock:
            chosen: _Injection | None = None
            for inj in self._injections:
                if not path.startswith(inj.path_prefix) or inj.remaining == 0:
                    continue
                if inj.after > 0:
                    inj.after -= 1  # every waiting injection counts this request
                elif chosen is None:
                    inj.remaining -= 1 if inj.remaining > 0 else 0
                    chosen = inj
        return chosen

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
        injected = fake._take_injection(url.path)
        if injected is not None:
            status, headers = injected.status, injected.headers
            body: dict[str, Any] = injected.body if injected.body is not None else (
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
