"""AWS calls, each recorded: the `Caller` every unit makes its calls through, the botocore
configuration its clients share (adaptive retries, the `app/evidence` User-Agent), secret
redaction, and what to do about a failed call.

A call's response, or each page of a listing, is written as one evidence record as it
arrives; a failure is written too, with its error code and a remedy naming the IAM action.
Error codes that are the API's way of answering (e.g. "no default encryption") are recorded
as responses, not failures.
"""

from __future__ import annotations

import base64
import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

import boto3
from botocore import xform_name
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from evidence.collectors.aws_config import AwsConfig
from evidence.collectors.aws_permissions import PERMISSIONS
from evidence.collectors.base import Sink
from evidence.errortext import plain_error
from evidence.models import CollectionError, EvidenceRecord, iso, utc_now
from evidence.sources.aws import error_answer

#: the collector's logger (its lines read `evidence.collectors.aws: ...`, whichever module logs)
log = logging.getLogger("evidence.collectors.aws")

T = TypeVar("T")

#: marks the collector's clients (`app/evidence` in the User-Agent, so CloudTrail shows who read)
USER_AGENT_APPID = "evidence"

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthorizationErrorException",
    "Forbidden",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
}
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
#: how an endpoint that lacks an operation answers (AWS never does; emulators such as moto do)
_UNIMPLEMENTED = {"404", "NotImplemented", "NotImplementedError", "InvalidAction", "UnknownOperationException"}


#: response fields that carry secrets: CloudFront origin custom headers (the usual shared secret
#: between a distribution and its origin), OIDC client secrets of ALB listener rules, and any
#: credentials (AssumeRole's are never recorded at all). Their values are replaced, never stored.
SECRET_FIELDS = frozenset({"HeaderValue", "ClientSecret", "SecretAccessKey", "SessionToken", "Password"})
REDACTED = "<redacted by evidence>"


def boto_config(aws: AwsConfig) -> BotoConfig:
    """The configuration of every client: botocore's adaptive retries (they absorb throttling),
    a pool as wide as the workers, and the `app/evidence` User-Agent."""
    return BotoConfig(
        retries={"mode": "adaptive", "max_attempts": aws.max_attempts},
        max_pool_connections=max(10, aws.max_workers),
        connect_timeout=10,
        read_timeout=60,
        user_agent_appid=USER_AGENT_APPID,
    )


class IncompleteResponse(BotoCoreError):  # type: ignore[misc]
    """A response whose body is shorter than its Content-Length: the connection was cut."""

    fmt = "the response ended after {received} of the {announced} bytes its Content-Length announced"


def reject_incomplete(response_dict: dict[str, Any], operation_model: Any, **_: Any) -> None:
    """`before-parse` handler: botocore reads bodies without enforcing Content-Length, so a body cut
    short would be parsed as a complete answer (a JSON one as `{"message": <the half body>}`, an
    empty page that ends the listing); raise instead, and the call is recorded as failed."""
    body = response_dict.get("body")
    announced = str(response_dict.get("headers", {}).get("content-length", ""))
    if isinstance(body, bytes) and announced.isdigit() and operation_model.http.get("method") != "HEAD" \
            and int(announced) != len(body):
        raise IncompleteResponse(received=len(body), announced=int(announced))


def jsonable(value: Any) -> Any:
    """A boto3 response as plain JSON (timestamps as ISO-8601, bytes as base64), metadata dropped,
    secret fields redacted."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if k in SECRET_FIELDS and v not in (None, "") else jsonable(v))
            for k, v in value.items()
            if k != "ResponseMetadata"
        }
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "read"):
        return None
    return value


def remedy_for(key: str, code: str, attempts: int) -> str:
    actions = ", ".join(PERMISSIONS.get(key, ())) or key
    if code in _DENIED:
        return f"grant {actions} to the identity evidence uses (see `evidence permissions`)"
    if code in _THROTTLED:
        return f"throttling outlasted {attempts} attempts; run again later or lower aws.max_workers"
    if code in {"OptInRequired", "InvalidClientTokenId", "AuthFailure"}:
        return "enable the region for this account, or remove it from aws.regions"
    if code in _UNIMPLEMENTED:
        return f"the AWS endpoint does not implement {key}; run against AWS itself (or an emulator that has it)"
    return f"see the AWS error; the call needs {actions}"


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def error_code(exc: Exception) -> tuple[str, str]:
    """(code, message) of a failed call."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        # an endpoint that answers with an HTML page (an emulator's 404, a proxy's 502): its title only
        return str(err.get("Code", "ClientError")), plain_error(str(err.get("Message", str(exc))))
    if isinstance(exc, NotImplementedError):
        return "NotImplemented", str(exc)
    if isinstance(exc, ResponseParserError):
        # its first line says why; the rest is the unparsable body itself
        return "ResponseParserError", str(exc).split("\n", 1)[0]
    return type(exc).__name__, str(exc)


@dataclass
class Account:
    id: str
    identity: str
    session: boto3.Session
    lock: threading.Lock = field(default_factory=threading.Lock)
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)


class Clients(Protocol):
    """What a `Caller` needs of the collector: its `[aws]` settings and its clients."""

    @property
    def aws(self) -> AwsConfig: ...

    def client(self, account: Account, service: str, region: str) -> Any: ...


#: a transform of a raw response into what is recorded (must stay JSON and hold no secret)
Transform = Callable[[dict[str, Any]], dict[str, Any]]
#: runs a job (`fn` with the caller) of the same unit on the pool, never waiting for it
Spawn = Callable[["Caller", Callable[["Caller"], None]], None]


class Caller:
    """Makes AWS calls for one (account, region) and records each one, or its failure.

    `wanted` is the set of evidence keys the run's checks need: units ask `wants(key)` and
    skip every call nobody will judge. `fork` runs more work for the same unit on the pool
    (through `spawn`; inline without one).
    """

    def __init__(
        self,
        collector: Clients,
        sink: Sink,
        account: Account,
        region: str,
        wanted: frozenset[str] = frozenset(),
        spawn: Spawn | None = None,
    ) -> None:
        self.collector = collector
        self.sink = sink
        self.account = account
        self.region = region
        self.wanted = wanted
        self.spawn = spawn

    def wants(self, key: str) -> bool:
        return key in self.wanted

    def at(self, region: str) -> Caller:
        """The same caller in another region (bucket-level calls go to the bucket's region)."""
        if region == self.region:
            return self
        return Caller(self.collector, self.sink, self.account, region, self.wanted, self.spawn)

    def fork(self, fn: Callable[[Caller], None], region: str | None = None) -> None:
        """Run `fn` as another job of this unit on the pool (inline when there is no pool)."""
        caller = self.at(region) if region else self
        if self.spawn is None:
            fn(caller)
        else:
            self.spawn(caller, fn)

    def fork_each(self, items: list[Any], fn: Callable[[Caller, list[Any]], None], size: int = 25) -> None:
        """Fan per-resource calls out in chunks of at most `size`, each chunk one job: smaller
        chunks when there are few items, so that every worker gets some (20 keys on 16 workers are
        10 jobs of two, not one job making 40 calls in a row)."""
        size = max(1, min(size, -(-len(items) // max(1, self.collector.aws.max_workers))))
        for chunk in chunks(items, size):
            self.fork(functools.partial(_apply, fn, chunk))

    def client(self, service: str) -> Any:
        return self.collector.client(self.account, service, self.region)

    def _record(self, service: str, op: str, params: Mapping[str, Any], subject: str, response: Any) -> None:
        self._write(service, op, params, subject, response=jsonable(response))

    def fail(self, service: str, op: str, params: Mapping[str, Any], subject: str, error: CollectionError) -> None:
        """Record that `service.op` could not be collected, with the cause and the remedy."""
        # the failure is a finding with its remedy; the log line is for -v
        log.info("aws %s.%s in %s/%s failed: %s", service, op, self.account.id, self.region, error.code)
        self._write(service, op, params, subject, error=error)

    def _write(self, service: str, op: str, params: Mapping[str, Any], subject: str, *, response: Any = None,
               error: CollectionError | None = None) -> None:
        self.sink.record(EvidenceRecord(
            source="aws", service=service, operation=op, parameters=jsonable(dict(params)), account=self.account.id,
            region=self.region, identity=self.account.identity, subject=subject, collected_at=iso(utc_now()),
            response=response, error=error,
        ))

    def _fail(self, service: str, op: str, params: Mapping[str, Any], subject: str, exc: Exception) -> None:
        key = f"{service}.{op}"
        code, message = error_code(exc)
        self.fail(
            service, op, params, subject,
            CollectionError(code=code, message=message,
                            remedy=remedy_for(key, code, self.collector.aws.max_attempts)),
        )

    def call(
        self,
        service: str,
        op: str,
        subject: str = "",
        *,
        answers: frozenset[str] = frozenset(),
        transform: Transform | None = None,
        **params: Any,
    ) -> dict[str, Any] | None:
        """One call; its response, or None when it failed (the failure is recorded).

        `answers` are error codes that are the API's way of answering (e.g. S3's
        `ServerSideEncryptionConfigurationNotFoundError` means "no default encryption"): they
        are recorded as a response `{"Error": {"Code", "Message"}}`, not as a failure.
        """
        try:
            response: dict[str, Any] = getattr(self.client(service), xform_name(op))(**params)
        except ClientError as exc:
            code, message = error_code(exc)
            if code in answers:
                answer = error_answer(code, message)
                self._record(service, op, params, subject, answer)
                return answer
            self._fail(service, op, params, subject, exc)
            return None
        except (BotoCoreError, ResponseParserError, NotImplementedError) as exc:
            self._fail(service, op, params, subject, exc)
            return None
        recorded = transform(response) if transform is not None else response
        self._record(service, op, params, subject, recorded)
        return recorded

    def pages(
        self,
        service: str,
        op: str,
        subject: str = "",
        *,
        page_size: int | None = None,
        answers: frozenset[str] = frozenset(),
        **params: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, each recorded as it arrives (`page_size`: the API's
        largest page, so the fewest calls)."""
        client = self.client(service)
        method = xform_name(op)
        n = 0
        shown = {**params, **({"page_size": page_size} if page_size else {})}
        try:
            if client.can_paginate(method):
                config = {"PageSize": page_size} if page_size else {}
                for page in client.get_paginator(method).paginate(**params, PaginationConfig=config):
                    n += 1
                    self._record(service, op, {**shown, "page": n}, subject, page)
                    yield page
                return
            page = getattr(client, method)(**params)
            n = 1
            self._record(service, op, {**shown, "page": n}, subject, page)
            yield page
        except ClientError as exc:
            code, message = error_code(exc)
            if code in answers and n == 0:
                answer = error_answer(code, message)
                self._record(service, op, {**shown, "page": 1}, subject, answer)
                yield answer
                return
            self._fail(service, op, {**shown, "page": n + 1}, subject, exc)
        except (BotoCoreError, ResponseParserError, NotImplementedError) as exc:
            self._fail(service, op, {**shown, "page": n + 1}, subject, exc)

    def marker_pages(
        self, service: str, op: str, *, marker_in: str, marker_out: str, subject: str = "", **params: Any
    ) -> Iterator[dict[str, Any]]:
        """Pages of a call botocore has no paginator for (e.g. WAFv2's `NextMarker`)."""
        marker: str | None = None
        while True:
            call_params = dict(params, **({marker_in: marker} if marker else {}))
            page = self.call(service, op, subject, **call_params)
            if page is None:
                return
            yield page
            marker = page.get(marker_out) or None
            if marker is None:
                return


def _apply(fn: Callable[[Caller, list[Any]], None], chunk: list[Any], caller: Caller) -> None:
    fn(caller, chunk)
