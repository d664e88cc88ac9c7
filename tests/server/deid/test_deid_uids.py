"""Keyed UID replacement."""

from pydicom.uid import UID

from anonapi_server.deid.uids import UidMapper

STUDY = "1.3.6.1.4.1.14519.5.2.1.9999.9999.349145790969277297409761382211"


def test_a_uid_maps_to_a_stable_valid_2_25_uid():
    new = UidMapper(b"k").map(STUDY)
    assert new == UidMapper(b"k").map(STUDY)
    assert new.startswith("2.25.") and UID(new).is_valid and len(new) <= 64
    assert new != UidMapper(b"other key").map(STUDY)


def test_standard_uids_and_empty_values_are_kept():
    mapper = UidMapper(b"k")
    assert mapper.map("1.2.840.10008.5.1.4.1.1.2") == "1.2.840.10008.5.1.4.1.1.2"
    assert mapper.map("") == ""


def test_encoded_multi_value_is_mapped_per_value_and_padded():
    mapper = UidMapper(b"k")
    encoded = mapper.map_value(b"1.2.3\\" + STUDY.encode() + b"\0")
    first, second = encoded.rstrip(b"\0").decode().split("\\")
    assert first == mapper.map("1.2.3") and second == mapper.map(STUDY)
    assert len(encoded) % 2 == 0
