"""The fake Admin SDK, driven by the real, unpatched google-auth and google-api-python-client."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from tests.fakes.google_workspace import (
    NEVER_LOGGED_IN,
    USER_READONLY_SCOPE,
    USERS_PATH,
    FakeWorkspace,
    load_directory_discovery,
    make_service_account_info,
    make_user,
    validate_discovery,
)

ADMIN = "admin@example.com"
GROUP_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.readonly"


def _users(n: int) -> list[dict[str, Any]]:
    users = [make_user(ADMIN, isAdmin=True)]
    users += [make_user(f"user{i:03d}@example.com", isEnrolledIn2Sv=i % 2 == 0) for i in range(1, n)]
    users[-1]["lastLoginTime"] = NEVER_LOGGED_IN
    return users


@pytest.fixture
def fake() -> Iterator[FakeWorkspace]:
    with FakeWorkspace(_users(7), page_size=3) as ws:
        yield ws
        ws.assert_served_payloads_valid()


def _directory(ws: FakeWorkspace, subject: str = ADMIN, scopes: tuple[str, ...] = (USER_READONLY_SCOPE,),
               info: dict[str, str] | None = None) -> Any:
    creds = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
        info or ws.service_account_info(), scopes=list(scopes), subject=subject)
    return build("admin", "directory_v1", credentials=creds, static_discovery=True,
                 client_options={"api_endpoint": ws.api_endpoint}, cache_discovery=False)


def _list_all(directory: Any) -> tuple[list[dict[str, Any]], int]:
    users: list[dict[str, Any]] = []
    pages = 0
    request = directory.users().list(customer="my_customer", maxResults=500, orderBy="email",
                                     projection="full", viewType="admin_view")
    while request is not None:
        response = request.execute()
        pages += 1
        users += response.get("users", [])
        request = directory.users().list_next(request, response)
    return users, pages


def test_lists_users_over_pages_with_real_clients(fake: FakeWorkspace) -> None:
    users, pages = _list_all(_directory(fake))
    assert pages == 3  # 7 users, server caps pages at 3 despite maxResults=500
    assert [u["primaryEmail"] for u in users] == sorted(u["primaryEmail"] for u in fake.users)
    assert users[-1]["lastLoginTime"] == NEVER_LOGGED_IN
    token_reqs = [r for r in fake.requests if r.path == "/token"]
    assert len(token_reqs) == 1 and token_reqs[0].claims is not None
    assert token_reqs[0].claims["sub"] == ADMIN and token_reqs[0].claims["scope"] == USER_READONLY_SCOPE
    list_reqs = [r for r in fake.requests if r.path == USERS_PATH]
    assert list_reqs[0].query["customer"] == ["my_customer"]
    assert "pageToken" in list_reqs[1].query
    assert len(fake.served) == 3
    assert "assertion" not in json.dumps([vars(r) for r in fake.requests])


def test_bad_subject_is_invalid_grant(fake: FakeWorkspace) -> None:
    with pytest.raises(RefreshError, match=r"invalid_grant.*Not a valid email or user ID"):
        _directory(fake, subject="nobody@example.com").users().list(customer="my_customer").execute()
    assert not fake.served


def test_untrusted_key_is_rejected(fake: FakeWorkspace) -> None:
    stranger = make_service_account_info(fake.token_uri, client_email=fake.client_email)
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        _directory(fake, info=stranger).users().list(customer="my_customer").execute()


def test_given_service_account_is_trusted() -> None:
    info = make_service_account_info("", client_email="sa@proj.iam.gserviceaccount.com")
    with FakeWorkspace(_users(2), service_account_info=info) as ws:
        assert ws.service_account_info()["private_key"] == info["private_key"]
        users, _ = _list_all(_directory(ws, info={**info, "token_uri": ws.token_uri}))
        assert len(users) == 2


def test_missing_scope_is_403(fake: FakeWorkspace) -> None:
    with pytest.raises(HttpError) as err:
        _directory(fake, scopes=(GROUP_SCOPE,)).users().list(customer="my_customer").execute()
    assert err.value.resp.status == 403
    assert json.loads(err.value.content)["error"]["errors"][0] == {
        "message": "Not Authorized to access this resource/api", "domain": "global", "reason": "forbidden"}
    assert "Not Authorized to access this resource/api" in str(err.value)


def test_unknown_customer_is_400(fake: FakeWorkspace) -> None:
    with pytest.raises(HttpError) as err:
        _directory(fake).users().list(customer="C0nope").execute()
    assert err.value.resp.status == 400


def test_injected_503_then_success(fake: FakeWorkspace) -> None:
    fake.inject(USERS_PATH, 503, times=1)
    request = _directory(fake).users().list(customer="my_customer")
    with pytest.raises(HttpError) as err:
        request.execute()
    assert err.value.resp.status == 503
    assert request.execute()["users"]
    assert [r.status for r in fake.requests if r.path == USERS_PATH] == [503, 200]


def test_injected_429_with_retry_after_then_client_retry(fake: FakeWorkspace) -> None:
    fake.inject(USERS_PATH, 429, times=1, headers={"Retry-After": "0"})
    assert _directory(fake).users().list(customer="my_customer").execute(num_retries=2)["users"]
    first = next(r for r in fake.requests if r.path == USERS_PATH)
    assert first.status == 429


def test_permanent_403(fake: FakeWorkspace) -> None:
    fake.inject(USERS_PATH, 403, times=-1)
    directory = _directory(fake)
    for _ in range(3):
        with pytest.raises(HttpError, match="Not Authorized"):
            directory.users().list(customer="my_customer").execute()
    fake.clear_injections()
    assert directory.users().list(customer="my_customer").execute()["users"]


def test_validator_rejects_wrong_type_and_unknown_field() -> None:
    doc = load_directory_discovery()
    good: dict[str, Any] = {"kind": "admin#directory#users", "users": [make_user("a@example.com")]}
    validate_discovery(good, "Users", doc)
    wrong_type = copy.deepcopy(good)
    wrong_type["users"][0]["isAdmin"] = "false"
    with pytest.raises(AssertionError, match=r"Users\.users\[0\]\.isAdmin"):
        validate_discovery(wrong_type, "Users", doc)
    unknown = copy.deepcopy(good)
    unknown["users"][0]["mfaEnabled"] = True
    with pytest.raises(AssertionError, match=r"Users\.users\[0\]\.mfaEnabled: property not in"):
        validate_discovery(unknown, "Users", doc)
    bad_date = copy.deepcopy(good)
    bad_date["users"][0]["creationTime"] = "yesterday"
    with pytest.raises(AssertionError, match="creationTime"):
        validate_discovery(bad_date, "Users", doc)


def test_served_payload_tampering_is_caught(fake: FakeWorkspace) -> None:
    _list_all(_directory(fake))
    fake.served[1][1]["users"][0]["invented"] = 1
    with pytest.raises(AssertionError, match="invented"):
        fake.assert_served_payloads_valid()
    fake.served.clear()


def test_constructor_validates_users() -> None:
    with pytest.raises(AssertionError, match="suspended"):
        FakeWorkspace([make_user("a@example.com", suspended="no")])
    with pytest.raises(ValueError, match="lastLoginTime"):
        FakeWorkspace([{k: v for k, v in make_user("a@example.com").items() if k != "lastLoginTime"}])


def test_nothing_leaves_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = {"127.0.0.1", "::1", "localhost"}
    real_connect = socket.socket.connect
    real_create = socket.create_connection
    seen: list[Any] = []

    def guarded_connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in allowed:
            raise OSError(f"blocked non-loopback connect to {address!r}")
        seen.append(address)
        real_connect(self, address)

    def guarded_create(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] not in allowed:
            raise OSError(f"blocked non-loopback connect to {address!r}")
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", guarded_create)
    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("203.0.113.7", 443), timeout=1)
    with socket.socket() as probe, pytest.raises(OSError, match="blocked"):
        probe.connect(("198.51.100.1", 80))

    with FakeWorkspace(_users(10), page_size=4) as ws:
        users, pages = _list_all(_directory(ws))
        assert (len(users), pages) == (10, 3)
        ws.assert_served_payloads_valid()
    assert seen, "the clients' connections must have gone through the guard"


def test_fields_selects_a_partial_response(fake: FakeWorkspace) -> None:
    directory = _directory(fake)
    fields = "kind,nextPageToken,users(primaryEmail,customerId,name/fullName,isAdmin)"
    request = directory.users().list(customer="my_customer", orderBy="email", fields=fields)
    page = request.execute()
    assert set(page) == {"kind", "nextPageToken", "users"}
    assert page["users"][0] == {"primaryEmail": ADMIN, "customerId": fake.customer_key,
                                "name": {"fullName": "Admin Example"}, "isAdmin": True}
    rest = directory.users().list_next(request, page).execute()
    assert set(rest["users"][0]) == {"primaryEmail", "customerId", "name", "isAdmin"}
    # the real customer ID is accepted like the my_customer alias
    assert directory.users().list(customer=fake.customer_key).execute()["users"]


@pytest.mark.parametrize("fields", ["users(mfaEnabled)", "users(name/nickname)", "users(primaryEmail", "kind,,etag"])
def test_invalid_field_selection_is_400(fake: FakeWorkspace, fields: str) -> None:
    with pytest.raises(HttpError) as err:
        _directory(fake).users().list(customer="my_customer", fields=fields).execute()
    assert err.value.resp.status == 400
    assert "Invalid field selection" in str(err.value)


def test_injection_after_some_requests(fake: FakeWorkspace) -> None:
    fake.inject(USERS_PATH, 500, times=1, after=2)
    directory = _directory(fake)
    for _ in range(2):
        directory.users().list(customer="my_customer").execute()
    with pytest.raises(HttpError) as err:
        directory.users().list(customer="my_customer").execute()
    assert err.value.resp.status == 500
    assert directory.users().list(customer="my_customer").execute()["users"]
    assert [r.status for r in fake.requests if r.path == USERS_PATH] == [200, 200, 500, 200]
