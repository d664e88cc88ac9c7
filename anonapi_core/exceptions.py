"""Exception tree, named as in the original anonapi so library users can migrate by imports alone.

Everything derives from `AnonAPIError`; the CLI and the dashboard catch that one class and show
its message as one line. Unlike the original, every message keeps its cause.
"""


class AnonAPIError(Exception):
    """Root of every error this package raises on purpose."""

    transient: bool = False
    """True for a failure that may pass when tried again: a timeout, a connection reset, a 5xx
    answer. Bulk actions retry those (with backoff) and no others."""


class APIClientError(AnonAPIError):
    """A call to an anonymization server failed."""


class ServerNotResponding(APIClientError):
    """The server could not be reached: refused, unknown host, timed out, TLS failure."""


class APIClientAuthorizationFailedException(APIClientError):
    """The server answered 401: the user name or token is not accepted."""


class APIClientAPIException(APIClientError):
    """The server answered 400 with an `errors` object; `api_errors` holds it."""

    def __init__(self, message: str, api_errors: dict | None = None):
        super().__init__(message)
        self.api_errors = api_errors or {}


class APIClient404Error(APIClientError):
    """The server has no such function (404 without documentation)."""


class APIParseResponseError(AnonAPIError):
    """A server reply did not have the shape of a job or job list."""


class JobCreationException(APIClientError):
    """A job could not be created."""


class ClientToolError(AnonAPIError):
    """Kept for compatibility with the original library's AnonClientTool."""


class ClientInterfaceError(AnonAPIError):
    """Kept for compatibility with the original library."""


class PersistenceError(AnonAPIError):
    """A user file (settings, batch, selection) could not be read or written."""


class AnonClientSettingsError(PersistenceError):
    """The settings file is not valid."""


class NoBatchDefinedError(PersistenceError):
    """There is no `.anonbatch` in the folder."""


class MapperError(AnonAPIError):
    """Something is wrong with a mapping."""


class MappingLoadError(MapperError):
    """A mapping file could not be read; the message names the file and line."""


class ParameterError(AnonAPIError):
    """A job parameter is not valid."""


class ParameterParsingError(ParameterError):
    """A `key,value` or grid cell could not be turned into a parameter."""


class UnknownSourceIdentifierException(ParameterParsingError):
    """A source such as `floder:x` has an unknown type."""


class UnknownObjectException(AnonAPIError):
    """Kept for compatibility with the original library."""


class InputFileError(AnonAPIError):
    """An input file (csv, xlsx) could not be used."""


class InputFileParseException(InputFileError):
    """An input file has a row or column that cannot be read; the message says which."""


class ParameterMappingError(ParameterError):
    """Parameters could not be mapped to a job."""


class JobSetValidationError(ParameterError):
    """One or more rows of a mapping would not make a valid job; the message names them."""


class AnonAPIContextError(AnonAPIError):
    """Kept for compatibility with the original library."""


class SelectionError(AnonAPIError):
    """A `fileselection.txt` could not be read or is not valid."""


class UNCPathError(ParameterError, ValueError):
    """A path that must be UNC (`\\\\server\\share`) is not; a ValueError as in the original."""


def one_line_message(e: BaseException) -> str:
    """What `anon` and `anon-tui` print after `Error: `: the message on one line, never empty.

    Core messages are one line already; this guards the promise for any that is not. An
    `OSError` becomes `Permission denied (x)`: the cause and the place, without `[Errno 13]`.
    """
    if isinstance(e, OSError):
        reason = e.strerror or str(e) or type(e).__name__
        return f"{reason} ({e.filename})" if e.filename else reason
    return " ".join(str(e).split()) or type(e).__name__
