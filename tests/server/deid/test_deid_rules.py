"""The rule table comes from dicom-anonymizer's Basic Profile lists, compiled per project."""

from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

from anonapi_server.deid.rules import Action, compile_rules, newest_table_version


def test_every_tag_of_the_packaged_table_gets_a_rule():
    table = compile_rules()
    assert table.version == newest_table_version()
    listed = dicom_anonymization_database_selector(table.version)["ALL_TAGS"]
    exact = [(g << 16) | e for g, e, *mask in listed if not mask]
    assert len(exact) > 500
    assert all(tag in table.exact for tag in exact)


def test_compound_codes_resolve_as_documented():
    table = compile_rules()
    assert table.action_for(0x00100010) is Action.EMPTY  # Patient's Name: Z
    assert table.action_for(0x00080080) is Action.EMPTY  # Institution Name: X/Z/D
    assert table.action_for(0x00081030) is Action.REMOVE  # Study Description: X
    assert table.action_for(0x0020000D) is Action.UID  # Study Instance UID: U
    assert table.action_for(0x00081140) is Action.CLEAN  # Referenced Image Sequence: X/Z/U*
    assert table.action_for(0x00280010) is None  # Rows: not in the profile, kept


def test_repeating_groups_match_by_mask():
    table = compile_rules()
    assert table.action_for(0x60023000) is table.action_for(0x60003000) is not None  # overlays
    assert table.action_for(0x60020010) is None  # Overlay Rows are not identifying


def test_options_turn_their_tags_into_keeps():
    assert compile_rules().action_for(0x00181000) is not Action.KEEP
    kept = compile_rules(frozenset({"retain_device_identity"}))
    assert kept.action_for(0x00181000) is Action.KEEP  # Device Serial Number
