"""Keyed UID replacement: the same UID in gives the same UID out within a project, nothing else.

A keyed hash (HMAC-SHA256 with the project's secret) instead of a lookup table means every worker
process, on any machine, maps a UID the same way without sharing state, so references between files
of a study (and between jobs of a project) stay consistent. Without the secret the mapping cannot be
reversed or recomputed from a guessed original.
"""

import hashlib
import hmac

# UIDs the standard itself defines (SOP classes, transfer syntaxes, coding schemes ...) identify
# nobody and must survive, or the output is no longer readable.
STANDARD_UID_ROOT = "1.2.840.10008."

# Elements whose UIDs name a class or a scheme, not an instance, even outside the standard's root
# (private SOP classes, coding schemes such as SNOMED's 2.16.840.1.113883.6.96).
CLASS_UID_TAGS = frozenset(
    {
        0x00020002,  # Media Storage SOP Class UID
        0x00020010,  # Transfer Syntax UID
        0x00020012,  # Implementation Class UID
        0x00041510,  # Referenced SOP Class UID in File
        0x00041512,  # Referenced Transfer Syntax UID in File
        0x00080016,  # SOP Class UID
        0x0008001A,  # Related General SOP Class UID
        0x0008001B,  # Original Specialized SOP Class UID
        0x0008010C,  # Coding Scheme UID
        0x0008010D,  # Context Group Extension Creator UID
        0x00080117,  # Context UID
        0x00080118,  # Mapping Resource UID
        0x00081150,  # Referenced SOP Class UID
        0x0008115A,  # SOP Classes Supported
        0x00080062,  # SOP Classes in Study
    }
)

_CACHE_LIMIT = 100_000


class UidMapper:
    """Maps original UIDs to `2.25.<decimal>` UIDs derived from HMAC(secret, uid)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._cache: dict[str, str] = {}
        self._encoded: dict[bytes, bytes] = {}  # map_value's, as the files of a study repeat

    def map(self, uid: str) -> str:
        """The replacement for one UID; standard UIDs and empty values come back unchanged."""
        if not uid or uid.startswith(STANDARD_UID_ROOT):
            return uid
        new = self._cache.get(uid)
        if new is None:
            digest = hmac.new(
                self._secret, b"uid\0" + uid.encode("ascii", "replace"), hashlib.sha256
            )
            # 128 bits as a decimal, like a UUID under 2.25: at most 39 digits, 44 chars in all.
            new = f"2.25.{int.from_bytes(digest.digest()[:16], 'big')}"
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[uid] = new
        return new

    def map_value(self, raw: bytes) -> bytes:
        """Map an encoded (possibly multi-valued, padded) UI value to its encoded replacement."""
        encoded = self._encoded.get(raw)
        if encoded is None:
            text = raw.decode("ascii", "replace").rstrip("\0 ")
            mapped = "\\".join(self.map(part.strip()) for part in text.split("\\"))
            encoded = mapped.encode("ascii")
            if len(encoded) % 2:
                encoded += b"\0"
            if len(self._encoded) >= _CACHE_LIMIT:
                self._encoded.clear()
            self._encoded[raw] = encoded
        return encoded
