"""Generated DICOM studies: deterministic, realistic in what they identify, sized as specified."""

import pydicom

from anonapi_server.sample_studies import write_demo_tree, write_study


def test_same_arguments_give_the_same_bytes(tmp_path):
    args = {"patient_id": "P1", "patient_name": "Doe^Jane", "n_files": 2, "rows": 8, "columns": 8}
    first = write_study(tmp_path / "a", **args)
    second = write_study(tmp_path / "b", **args)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other_seed = write_study(tmp_path / "c", seed=1, **args)
    assert other_seed[0].read_bytes() != first[0].read_bytes()


def test_files_are_numbered_part10_with_identifying_content(tmp_path):
    paths = write_study(
        tmp_path, patient_id="P7", patient_name="Jansen^Piet", n_files=3, accession_number="A1"
    )
    assert [p.name for p in paths] == ["1", "2", "3"]
    assert paths[0].read_bytes()[128:132] == b"DICM"
    ds = pydicom.dcmread(paths[2])
    assert (ds.PatientName, ds.PatientID, ds.AccessionNumber) == ("Jansen^Piet", "P7", "A1")
    assert ds.InstitutionName == "Radboudumc" and ds.StudyDate == "20240102"
    assert (
        ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID
        == pydicom.dcmread(paths[0]).SOPInstanceUID
    )
    assert any(elem.tag.is_private for elem in ds)
    assert 500_000 < paths[0].stat().st_size < 560_000  # 512x512 16-bit: the ~0.5 MB CT slice


def test_options_change_what_is_written(tmp_path):
    (path,) = write_study(
        tmp_path,
        patient_id="P",
        patient_name="N",
        n_files=1,
        rows=4,
        columns=4,
        modality="US",
        burned_in=True,
        private_tags=False,
        suffix=".dcm",
    )
    ds = pydicom.dcmread(path)
    assert path.name == "1.dcm"
    assert (ds.Modality, ds.BurnedInAnnotation, ds.Rows) == ("US", "YES", 4)
    assert not any(elem.tag.is_private for elem in ds)


def test_demo_tree_has_a_burned_in_study_and_an_opt_out_patient(tmp_path):
    studies = write_demo_tree(tmp_path)
    assert sum(s.burned_in for s in studies) == 1 and sum(s.opt_out for s in studies) == 1
    for study in studies:
        files = sorted(study.folder.iterdir())
        assert len(files) == study.n_files
        ds = pydicom.dcmread(files[0])
        assert (ds.PatientID, ds.AccessionNumber) == (study.patient_id, study.accession_number)
        assert (ds.BurnedInAnnotation == "YES") == study.burned_in
