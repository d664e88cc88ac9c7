"""Parameter names (current and legacy) and source identifiers."""

import pytest

from anonapi_core.exceptions import ParameterParsingError, UnknownSourceIdentifierException
from anonapi_core.parameters import (
    PARAMETER_NAMES,
    SourceIdentifier,
    SourceType,
    canonical_name,
    parameter_name,
)


def test_the_eight_parameters_in_the_originals_column_order():
    assert PARAMETER_NAMES == (
        "source",
        "pseudo_id",
        "pseudo_name",
        "description",
        "pims_key",
        "destination_path",
        "root_source_path",
        "project",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("patient_id", "pseudo_id"),
        ("patient_name", "pseudo_name"),
        ("pseudo_name", "pseudo_name"),
        (" Source ", "source"),
        ("PROJECT", "project"),
        ("projekt", None),
    ],
)
def test_legacy_and_differently_cased_names_map_to_the_current_name(name, expected):
    assert canonical_name(name) == expected


def test_an_unknown_parameter_name_is_an_error_listing_the_known_ones():
    with pytest.raises(ParameterParsingError, match="unknown parameter 'projekt'. Known: source,"):
        parameter_name("projekt")


@pytest.mark.parametrize(
    ("text", "source_type", "value"),
    [
        ("folder:study1/a", SourceType.FOLDER, "study1/a"),
        ("folder:C:/x", SourceType.FOLDER, "C:/x"),  # split on the first colon only
        ("fileselection:a\\fileselection.txt", SourceType.FILESELECTION, "a\\fileselection.txt"),
        ("study_instance_uid:1.2.3", SourceType.STUDY_INSTANCE_UID, "1.2.3"),
        ("accession_number:1234567.1234578dwe ", SourceType.ACCESSION_NUMBER, "1234567.1234578dwe"),
        ("folder: lead kept, tail dropped \t", SourceType.FOLDER, " lead kept, tail dropped"),
        ("FOLDER:x", SourceType.FOLDER, "x"),
    ],
)
def test_source_identifiers_parse_to_type_and_right_stripped_value(text, source_type, value):
    source = SourceIdentifier.parse(text)
    assert (source.type, source.value) == (source_type, value)


def test_a_source_prints_back_as_type_colon_value():
    assert str(SourceIdentifier.parse("accession_number:123 ")) == "accession_number:123"


def test_only_folder_and_fileselection_sources_are_paths():
    assert SourceIdentifier.parse("folder:a").is_path
    assert SourceIdentifier.parse("fileselection:a").is_path
    assert not SourceIdentifier.parse("study_instance_uid:1.2").is_path
    assert not SourceIdentifier.parse("accession_number:1").is_path


def test_an_unknown_source_type_names_the_known_ones():
    with pytest.raises(UnknownSourceIdentifierException) as error:
        SourceIdentifier.parse("floldertypo:1234")
    assert str(error.value) == (
        "unknown source type 'floldertypo'. "
        "Known: folder, fileselection, study_instance_uid, accession_number"
    )


@pytest.mark.parametrize("text", ["OOPS", "base:x", "pacs_resource:x"])
def test_sources_the_original_could_not_create_jobs_for_are_refused(text):
    with pytest.raises(UnknownSourceIdentifierException, match="folder, fileselection"):
        SourceIdentifier.parse(text)


def test_a_source_without_a_value_is_refused():
    with pytest.raises(UnknownSourceIdentifierException, match="has no value"):
        SourceIdentifier.parse("folder:   ")
