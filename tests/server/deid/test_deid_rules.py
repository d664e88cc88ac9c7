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
    assert table.action_for(0x00080080) is Action.DUMMY  # Institution Name: X/Z/D
    assert table.action_for(0x00181000) is Action.DUMMY  # Device Serial Number: X/Z/D, Type 1
    assert table.action_for(0x00101080) is not Action.DUMMY  # Military Rank: X, stays X
    assert table.action_for(0x00081030) is Action.REMOVE  # Study Description: X
    assert table.action_for(0x0020000D) is Action.UID  # Study Instance UID: U
    assert table.action_for(0x00081140) is Action.CLEAN  # Referenced Image Sequence: X/Z/U*
    assert table.action_for(0x00280010) is None  # Rows: not in the profile, kept


def test_sequences_whose_code_allows_z_stay_present_and_empty():
    # Type 2 in SR Document Series and Acquisition Context: removing them is a validator error.
    table = compile_rules()
    assert table.action_for(0x00081111) is Action.DUMMY  # Ref. Performed Proc. Step Seq.: X/Z/D
    assert table.action_for(0x00400555) is Action.EMPTY  # Acquisition Context Sequence: X/Z


def test_overlays_and_curves_go_as_whole_groups():
    table = compile_rules()
    for group in (0x6000, 0x6002, 0x601E, 0x5000, 0x5010):
        for element in (0x0010, 0x0100, 0x3000, 0x4000):  # rows, bits allocated, data, comments
            assert table.action_for(group << 16 | element) is Action.REMOVE


def test_options_turn_their_tags_into_keeps():
    assert compile_rules().action_for(0x00181000) is not Action.KEEP
    kept = compile_rules(frozenset({"retain_device_identity"}))
    assert kept.action_for(0x00181000) is Action.KEEP  # Device Serial Number
