"""Which PACS the server knows, how to reach each, and which one a job's `source_name` means.

A PACS is either a DICOMweb service (QIDO-RS + WADO-RS under one base URL) or a DIMSE node
(host, port, called AE title; C-FIND then C-GET, or C-MOVE to a storage SCP the worker opens).
The list lives in the database like users and shares, so `anon-server pacs add` takes effect on
a running server. The original's clients always send `source_name=IDC_WADO`: that name means the
default PACS.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Final, Literal

from anonapi_server.store import Store

DEFAULT_SOURCE_NAME = "IDC_WADO"
DEFAULT_CALLING_AET = "ANONAPI"
DEFAULT_TIMEOUT = 30.0
DICOMWEB: Final = "dicomweb"
DIMSE: Final = "dimse"
RETRIEVE_METHODS = ("get", "move")


class PacsConfigError(Exception):
    """A PACS setting cannot be used; the message says which and why."""


class UnknownSource(Exception):
    """A job names a source the server has no PACS for."""


@dataclass(frozen=True)
class PacsNode:
    """One PACS. `url` is set for DICOMweb; host, port and AE titles for DIMSE.

    `retrieve` is how a DIMSE study comes over: "get" (C-GET, on the association the worker
    opens) or "move" (C-MOVE to `calling_aet`, which the PACS must know as `move_host:move_port`;
    the worker listens there while it retrieves).
    """

    name: str
    kind: Literal["dicomweb", "dimse"]
    url: str = ""
    host: str = ""
    port: int = 0
    called_aet: str = ""
    calling_aet: str = DEFAULT_CALLING_AET
    retrieve: str = "get"
    move_port: int = 0
    timeout: float = DEFAULT_TIMEOUT
    is_default: bool = False

    def describe(self) -> str:
        """One line for `pacs list`: where it is and how it is reached."""
        if self.kind == DICOMWEB:
            where = f"DICOMweb {self.url}"
        else:
            where = (
                f"DIMSE {self.host}:{self.port} called AE {self.called_aet}, "
                f"calling AE {self.calling_aet}, C-{self.retrieve.upper()}"
            )
            if self.retrieve == "move":
                where += f" to port {self.move_port}"
        return f"{self.name}{' (default)' if self.is_default else ''}: {where}"

    def settings_json(self) -> str:
        data = asdict(self)
        del data["name"], data["is_default"]
        return json.dumps(data, sort_keys=True)


def check_aet(value: str, option: str) -> str:
    """An AE title as DICOM allows it: 1-16 printable ASCII characters, no backslash."""
    title = value.strip()
    if not 0 < len(title) <= 16 or not title.isascii() or not title.isprintable() or "\\" in title:
        raise PacsConfigError(f"{option} must be 1 to 16 ASCII characters, not '{value}'")
    return title


def parse_host_port(value: str) -> tuple[str, int]:
    """`HOST:PORT` of a DIMSE node."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise PacsConfigError(f"--dimse must be HOST:PORT, not '{value}'")
    return host.strip("[]"), int(port)


def new_node(
    name: str,
    *,
    dicomweb: str | None = None,
    dimse: str | None = None,
    called_aet: str | None = None,
    calling_aet: str | None = None,
    retrieve: str = "get",
    move_port: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> PacsNode:
    """A checked PacsNode from the options of `anon-server pacs add`."""
    if not name.strip() or name.strip() != name:
        raise PacsConfigError(f"'{name}' is not a valid PACS name")
    if name.upper() == DEFAULT_SOURCE_NAME:
        raise PacsConfigError(
            f"{DEFAULT_SOURCE_NAME} always means the default PACS; give the PACS its own name"
        )
    if timeout <= 0:
        raise PacsConfigError("--timeout must be a positive number of seconds")
    if (dicomweb is None) == (dimse is None):
        raise PacsConfigError("Give either --dicomweb URL or --dimse HOST:PORT")
    if dicomweb is not None:
        if not dicomweb.startswith(("http://", "https://")):
            raise PacsConfigError(f"--dicomweb must be an http(s) URL, not '{dicomweb}'")
        return PacsNode(name, DICOMWEB, url=dicomweb.rstrip("/"), timeout=timeout)
    assert dimse is not None
    host, port = parse_host_port(dimse)
    if not called_aet:
        raise PacsConfigError("--dimse needs --called-aet (the PACS's AE title)")
    if retrieve not in RETRIEVE_METHODS:
        raise PacsConfigError(f"--retrieve must be get or move, not '{retrieve}'")
    if retrieve == "move" and not move_port:
        raise PacsConfigError(
            "--retrieve move needs --move-port (where the PACS sends the study to the calling AE)"
        )
    return PacsNode(
        name,
        DIMSE,
        host=host,
        port=port,
        called_aet=check_aet(called_aet, "--called-aet"),
        calling_aet=check_aet(calling_aet or DEFAULT_CALLING_AET, "--calling-aet"),
        retrieve=retrieve,
        move_port=move_port or 0,
        timeout=timeout,
    )


def add_node(store: Store, node: PacsNode, *, default: bool) -> None:
    store.set_pacs(node.name, node.settings_json(), default=default)


def nodes(store: Store) -> list[PacsNode]:
    """Every configured PACS, by name."""
    return [
        PacsNode(name=name, is_default=is_default, **json.loads(settings))
        for name, settings, is_default in store.pacs_rows()
    ]


def resolve(store: Store, source_name: str | None) -> PacsNode:
    """The PACS a job's `source_name` names (IDC_WADO or nothing: the default one)."""
    known = nodes(store)
    wanted = source_name or DEFAULT_SOURCE_NAME
    if wanted.upper() == DEFAULT_SOURCE_NAME:
        for node in known:
            if node.is_default:
                return node
        raise UnknownSource(
            f"No default PACS configured for {DEFAULT_SOURCE_NAME}; an administrator adds one "
            "with 'anon-server pacs add NAME ... --default'"
        )
    for node in known:
        if node.name == wanted:
            return node
    names = ", ".join([DEFAULT_SOURCE_NAME, *(n.name for n in known)]) if known else "none"
    raise UnknownSource(f"Unknown source_name {wanted} (known: {names})")
