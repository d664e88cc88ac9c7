"""HTTP client for the IDIS web API, sending exactly what the original anonapi sends.

Wire rules (reference §2.1): URL = server url + "/" + function; reads are GET, writes are
POST; every parameter travels form-encoded in the body, also on GET; `user_name` is always
sent; the token goes in `Authorization: Token ...`. What we add, which a real server ignores:
one pooled connection, a timeout, bounded concurrency for per-job calls, chunked list calls,
and errors that keep their cause.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import ssl
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from anonapi_core.exceptions import (
    AnonAPIError,
    APIClient404Error,
    APIClientAPIException,
    APIClientAuthorizationFailedException,
    APIClientError,
    JobCreationException,
    ServerNotResponding,
)
from anonapi_core.job_fields import JobRecord, job_records
from anonapi_core.model_loading import load_models_in_background
from anonapi_core.server_address import Server

if TYPE_CHECKING:
    from anonapi_core.models import JobInfo

# httpx imports its optional command-line tool (click, rich, pygments: ~35 ms) whenever those are
# installed, as they are beside our CLI. The library never needs it, and start-up time counts.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

DEFAULT_TIMEOUT = 10.0
DEFAULT_CHUNK_SIZE = 500


def _form_value(value: Any) -> str | list[str]:
    """Encode one parameter the way the original's `requests` call did (bools as True/False)."""
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return str(value)


def encode_form(params: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Drop None values and stringify the rest; lists become repeated keys."""
    return {k: _form_value(v) for k, v in params.items() if v is not None}


def _connect_reason(exc: BaseException) -> str:
    """Find the operating system's reason behind a failed connection, in words a user knows."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "host name not known"
        if isinstance(seen, ssl.SSLError):
            return f"TLS error: {seen.reason or seen}"
        if isinstance(seen, ConnectionRefusedError) or getattr(seen, "errno", None) in (
            errno.ECONNREFUSED,
            10061,  # WSAECONNREFUSED on Windows
        ):
            return "connection refused"
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "host name not known"
    if "getaddrinfo failed" in lowered or "name resolution" in lowered:
        return "host name not known"
    if "refused" in lowered:
        return "connection refused"
    if "certificate" in lowered:
        return f"TLS error: {text}"
    return text or type(exc).__name__


def _describe_errors(errors: Any) -> str:
    """Turn IDIS's `{"errors": {...}}` object into one readable line."""
    if isinstance(errors, Mapping):
        return "; ".join(f"{key}: {value}" for key, value in errors.items())
    return str(errors)


def _verify_setting(url: str, validate_https: bool) -> bool:
    """httpx's `verify` for a server: as the user asked for https, off where TLS is never used.

    httpx builds its TLS context when the client is made, and a verifying one loads every CA
    certificate: about a third of the client's start-up. A plain-http server never uses it, as
    long as redirects are not followed (httpx's default) and no proxy, which may speak TLS, is
    configured in the environment.
    """
    if not validate_https or url.lower().startswith("https:"):
        return validate_https
    from urllib.request import getproxies  # already imported by httpx

    return bool(getproxies())


class _PooledConnection:
    """`with` support for clients that hold a connection pool, which must be closed."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class WebAPIClient(_PooledConnection):
    """Low-level client: one server, one pooled connection, raw JSON replies.

    Named and shaped like the original library's class (`get(fn, **kw)`, `post(fn, **kw)`,
    `get_documentation()`) so scripts written for it keep working.
    """

    def __init__(
        self,
        hostname: str,
        username: str,
        token: str,
        validate_https: bool = True,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = 8,
    ):
        self.hostname = hostname
        self.username = username
        self.timeout = timeout
        self._http = httpx.Client(
            verify=_verify_setting(hostname, validate_https),
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Authorization": f"Token {token}"},
        )

    def __repr__(self) -> str:
        return f"WebAPIClient({self.username}@{self.hostname})"

    def close(self) -> None:
        self._http.close()

    def url_for(self, function_name: str) -> str:
        """Plain concatenation as in the original, minus a doubled slash."""
        return f"{self.hostname.rstrip('/')}/{function_name}"

    def get(self, function_name: str, **kwargs: Any) -> Any:
        return self._call("GET", function_name, kwargs)

    def post(self, function_name: str, **kwargs: Any) -> Any:
        return self._call("POST", function_name, kwargs)

    def get_documentation(self) -> Any:
        """The `documentation` object IDIS returns (with a 404) for the API root."""
        reply = self.get("")
        if not isinstance(reply, Mapping) or "documentation" not in reply:
            raise APIClientError(f"{self.hostname} did not return API documentation")
        return reply["documentation"]

    def _call(self, method: str, function_name: str, params: dict[str, Any]) -> Any:
        params.setdefault("user_name", self.username)
        response = self._send(method, self.url_for(function_name), data=encode_form(params))
        return self.parse_response(response, function_name)

    def send_json(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One call beside the IDIS API (the `/ext` extensions): user_name in the query, JSON body.

        The reply is returned as it came: what a status code means is the caller's business.
        """
        return self._send(
            method, self.url_for(path), params={"user_name": self.username}, json=body
        )

    def _send(self, method: str, url: str, **request: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **request)
        except httpx.TimeoutException as e:
            error = ServerNotResponding(
                f"Cannot reach {self.hostname}: no answer within {self.timeout:g} s (timed out)"
            )
            error.transient = True
            raise error from e
        except httpx.HTTPError as e:
            error = ServerNotResponding(f"Cannot reach {self.hostname} ({_connect_reason(e)})")
            # A connection that broke mid-way may work next time; one refused will not.
            error.transient = isinstance(
                e, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError
            )
            raise error from e

    def parse_response(self, response: httpx.Response, function_name: str = "") -> Any:
        """Map status codes as IDIS uses them (reference §2.2), keeping the server's own text."""
        code = response.status_code
        where = f"{self.username}@{self.hostname}"
        if code == 401:
            detail = self.error_text(response)
            raise APIClientAuthorizationFailedException(
                f"Server {self.hostname} answered 401 Unauthorized: user '{self.username}' and "
                f"the token in your settings are not accepted" + (f" ({detail})" if detail else "")
            )
        if code == 405:
            raise APIClientError(
                f"Server {self.hostname} answered 405 Method not allowed for '{function_name}'"
            )
        if code not in (200, 400, 404):
            error = APIClientError(
                f"Unexpected response from {where}: HTTP {code} {response.reason_phrase}"
                + (f" ({self.error_text(response)})" if self.error_text(response) else "")
            )
            error.transient = code >= 500
            raise error
        try:
            body = response.json()
        except ValueError as e:
            raise APIClientError(
                f"Response from {where} was not JSON (HTTP {code}). Is this a web API url?"
            ) from e
        if code == 400:
            errors = body.get("errors", body) if isinstance(body, Mapping) else body
            raise APIClientAPIException(
                f"Server refused: {_describe_errors(errors)}",
                api_errors=errors if isinstance(errors, dict) else None,
            )
        if code == 404:
            if function_name == "" and isinstance(body, Mapping) and "documentation" in body:
                return body
            raise APIClient404Error(
                f"Server {self.hostname} has no API function '{function_name}' (404). "
                "Is the server URL right?"
            )
        return body

    @staticmethod
    def error_text(response: httpx.Response) -> str:
        """The server's own explanation, if it sent one in JSON."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, Mapping):
            errors = body.get("errors") or body.get("error") or body.get("detail")
            if errors:
                return _describe_errors(errors)
        return ""


T = TypeVar("T", covariant=True)


@dataclass(frozen=True)
class JobResult(Generic[T]):
    """Outcome of one per-job call in a bulk operation; failures are data, not exceptions.

    Generic in what the call returned, so `jobs_details` results carry a `JobInfo` to the type
    checker too. `value` is None when the call failed.
    """

    job_id: str
    ok: bool
    error: str | None = None
    value: T | None = None


R = TypeVar("R")


class SettingsLike(Protocol):
    """The part of the user settings a client needs; structural, so no file logic here."""

    user_name: str
    user_token: str
    validate_ssl: bool


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AnonClient(_PooledConnection):
    """High-level client for one server: typed replies, bulk calls, bounded concurrency."""

    def __init__(
        self,
        server: Server,
        user_name: str,
        token: str,
        *,
        validate_ssl: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int = 8,
        retries: int = 3,
        backoff: float = 0.5,
    ):
        self.server = server
        self.max_concurrency = max(1, max_concurrency)
        self.retries = max(0, retries)
        self.backoff = backoff
        """Seconds before the first retry of a transient failure; doubled for each next one."""
        self.api = WebAPIClient(
            server.url,
            user_name,
            token,
            validate_ssl,
            timeout=timeout,
            max_connections=self.max_concurrency,
        )

    @classmethod
    def from_settings(cls, settings: SettingsLike, server: Server | None = None) -> AnonClient:
        """A client for `server`, or for the settings' active server; the token goes only to a
        server in the settings (see `anonapi_core.credentials`)."""
        from anonapi_core.credentials import check_credentials

        if server is None:
            server = settings.active_server()  # type: ignore[attr-defined]
        check_credentials(settings, server)
        return cls(
            server,
            settings.user_name,
            settings.user_token,
            validate_ssl=settings.validate_ssl,
            timeout=getattr(settings, "timeout", DEFAULT_TIMEOUT),
        )

    def __repr__(self) -> str:
        return f"AnonClient({self.server})"

    def close(self) -> None:
        self.api.close()

    def ping(self) -> float:
        """Seconds for one round trip to the API root; raises if the server is not an IDIS API."""
        return self.check()[0]

    def check(self) -> tuple[float, str | None]:
        """As `ping`, plus a warning when the server reports that jobs may not run.

        The embedded server adds the state of its worker processes to the root document; IDIS
        does not, and then there is nothing to warn about.
        """
        started = time.perf_counter()
        reply = self.api.get("")
        elapsed = time.perf_counter() - started
        if not isinstance(reply, Mapping) or "documentation" not in reply:
            raise APIClientError(f"{self.server.url} answered, but not like an IDIS web API")
        return elapsed, _workers_warning(reply.get("workers"))

    def check_token(self) -> None:
        """Raise APIClientAuthorizationFailedException if the server refuses the user's token.

        The API root answers without a token, so a ping alone said OK while every call got 401.
        Asking for job 0 is cheap and needs the token; "no such job" means it was accepted.
        """
        with contextlib.suppress(APIClientAPIException):
            self.api.get("get_job", job_id="0")

    def _api_for_jobs(self) -> WebAPIClient:
        """The low-level client, for a call whose reply holds jobs: the wire models load while
        that reply is on the way (see `model_loading`)."""
        load_models_in_background()
        return self.api

    def get_jobs(self) -> list[JobInfo]:
        """The latest jobs on the server (IDIS decides how many)."""
        from anonapi_core.models import parse_job_list

        return parse_job_list(self._api_for_jobs().get("get_jobs"))

    def get_job(self, job_id: str) -> JobInfo:
        """Extended information on one job."""
        from anonapi_core.models import JobInfo

        return JobInfo.parse(self._api_for_jobs().get("get_job", job_id=job_id))

    def get_jobs_list(
        self,
        job_ids: Sequence[str],
        *,
        extended: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> list[JobInfo]:
        """Jobs by id, fetched in bounded chunks (ids the server does not know are absent).

        The original sent every id of a batch in one body; thousands of ids can exceed what a
        server or proxy accepts, so we split, and run the chunks concurrently.
        """
        if job_ids:
            load_models_in_background()
        replies = self._jobs_list_replies(job_ids, extended, chunk_size)
        from anonapi_core.models import parse_job_list

        return [job for reply in replies for job in parse_job_list(reply)]

    def get_job_records(
        self,
        job_ids: Sequence[str],
        *,
        extended: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> list[JobRecord]:
        """As `get_jobs_list`, each job as the record the server sent where the wire model would
        take it unchanged: no model is built, and pydantic is not even imported, for a reply
        that is as it should be (see `job_fields`)."""
        replies = self._jobs_list_replies(job_ids, extended, chunk_size)
        return [record for reply in replies for record in job_records(reply)]

    def _jobs_list_replies(
        self, job_ids: Sequence[str], extended: bool, chunk_size: int
    ) -> list[Any]:
        """The replies to get_jobs_list[_extended] for `job_ids` in chunks, in order."""
        function = "get_jobs_list_extended" if extended else "get_jobs_list"
        chunks = list(_chunks(list(job_ids), max(1, chunk_size)))

        def fetch(chunk: Sequence[str]) -> Any:
            return self.api.get(function, job_ids=list(chunk))

        if len(chunks) <= 1:
            return [fetch(chunk) for chunk in chunks]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(chunks))) as pool:
            return list(pool.map(fetch, chunks))

    def create_job(self, params: Mapping[str, Any]) -> JobInfo:
        """Create one job from `create_job` form fields (see mapping.JobRequest)."""
        reply = self._api_for_jobs().post("create_job", **dict(params))
        from anonapi_core.models import JobInfo

        try:
            return JobInfo.parse(reply)
        except AnonAPIError as e:
            raise JobCreationException(f"Server reply to create_job was not a job: {e}") from e

    def cancel_job(self, job_id: str) -> None:
        """Cancel a job: IDIS sets it INACTIVE."""
        self.api.post("cancel_job", job_id=job_id)

    def reset_job(self, job_id: str) -> None:
        """Run a job again, with exactly the fields the original sends."""
        self.api.post(
            "modify_job",
            job_id=job_id,
            status="ACTIVE",
            files_downloaded=0,
            files_processed=0,
            error=" ",
        )

    def set_opt_out_ignore(self, job_id: str, reason: str) -> None:
        """Process a job although its patient opted out (specific consent given)."""
        self.api.post(
            "modify_job",
            job_id=job_id,
            source_ignore_opt_out=True,
            source_ignore_opt_out_reason=f"Reason: {reason}",
        )

    def modify_job(self, job_id: str, **fields: Any) -> None:
        self.api.post("modify_job", job_id=job_id, **fields)

    def for_each(self, fn: Callable[[str], R], job_ids: Sequence[str]) -> list[JobResult[R]]:
        """Call `fn(job_id)` for every id over the pooled connection, a few at a time.

        A failure of one job is recorded in its JobResult and the others go on, so a bulk reset
        reports exactly which jobs did not happen. A transient failure (timeout, reset
        connection, 5xx) is tried again up to `retries` times with doubling pauses; a refusal
        is final at once.
        """

        def run(job_id: str) -> JobResult[R]:
            for attempt in range(self.retries + 1):
                try:
                    return JobResult(job_id, True, None, fn(job_id))
                except AnonAPIError as e:
                    if not e.transient or attempt == self.retries:
                        return JobResult(job_id, False, str(e))
                time.sleep(self.backoff * 2**attempt)
            raise AssertionError("unreachable: the last attempt returns")

        ids = list(job_ids)
        if len(ids) <= 1:
            return [run(job_id) for job_id in ids]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(ids))) as pool:
            return list(pool.map(run, ids))


def _workers_warning(workers: Any) -> str | None:
    if not isinstance(workers, Mapping) or workers.get("status") != "degraded":
        return None
    return (
        f"only {workers.get('alive')} of {workers.get('expected')} worker processes are "
        "running (the server is restarting them); new jobs may wait"
    )
