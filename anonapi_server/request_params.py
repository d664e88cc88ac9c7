"""Request parameters as IDIS receives them, with typed getters that fail as a 400.

The original client sends form-encoded bodies also on GET, lists as repeated keys and booleans as
the strings `True`/`False`. Query-string parameters are accepted too (body wins), so a browser or
curl can call the API without a body.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from anonapi_server.limits import int_range

TRUE_TEXTS = {"true", "1", "yes", "on"}
FALSE_TEXTS = {"false", "0", "no", "off"}


class BadRequest(Exception):
    """A 400 reply: `errors` maps a parameter (or IDIS's exception name) to a message."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.errors = {field: message}


class Params:
    """Parsed parameters: every key maps to the list of its values in order."""

    def __init__(self, values: dict[str, list[str]]):
        self.values = values

    @classmethod
    def parse(cls, query: str, body: bytes) -> Params:
        try:
            body_text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadRequest("body", "The request body is not UTF-8 form data") from e
        values = parse_qs(query, keep_blank_values=True)
        values.update(parse_qs(body_text, keep_blank_values=True))
        return cls(values)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str, *, required: bool = False) -> str | None:
        """The last value given for `name` (a form field given twice: the later one wins)."""
        found = self.values.get(name)
        if not found:
            if required:
                raise BadRequest(name, f"Required parameter {name} not supplied")
            return None
        return found[-1]

    def required(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        if not value.strip():
            raise BadRequest(name, f"Required parameter {name} is empty")
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.required(name) if required else self.text(name)
        if not value:  # an optional number sent as an empty field is not given
            return None
        return to_int(name, value)

    def boolean(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered in TRUE_TEXTS:
            return True
        if lowered in FALSE_TEXTS:
            return False
        raise BadRequest(name, f"Invalid value for {name}: '{value}' is not True or False")

    def job_ids(self, name: str = "job_ids") -> list[int]:
        """The ids of a list call: repeated values, each may also be comma-separated.

        An id that is not a whole number is left out rather than refused: IDIS leaves out ids it
        does not know, so the client reports that one job as not found instead of the whole call
        failing (batches of the original can hold such ids).
        """
        raw = self.values.get(name)
        if not raw:
            raise BadRequest(name, f"Required parameter {name} not supplied")
        low, high = int_range("job_id")
        pieces = (v.strip() for value in raw for v in value.split(","))
        return [n for n in map(_whole_number, pieces) if n is not None and low <= n <= high]


def _whole_number(text: str) -> int | None:
    # Digits only, at most 19 of them: int() of a long string is slow by design (and refused).
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        return None
    return int(text)


def to_int(name: str, value: str) -> int:
    """`value` as a whole number within the range stored for `name`; else a 400 naming it."""
    text = value.strip()
    number = _whole_number(text)
    low, high = int_range(name)
    if number is None and not text.lstrip("+-").isdigit():
        raise BadRequest(name, f"Invalid value for {name}: '{value}' is not a whole number")
    if number is None or not low <= number <= high:
        raise BadRequest(name, f"Invalid value for {name}: not between {low} and {high}")
    return number
