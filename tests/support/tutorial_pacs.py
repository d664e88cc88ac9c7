"""The studies of the seed's PACS tutorial, written into a folder a local PACS serves.

Both the original client's and our own tutorial tests need the same small studies: one per
accession number, two 8x8 files each, so the PACS round trip stays quick.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pydicom

from anonapi_server.sample_studies import write_study


def write_tutorial_studies(
    folder: Path, accessions: Iterable[str], patient_prefix: str
) -> list[str]:
    """One study per accession number under `folder/<accession>`; their StudyInstanceUIDs."""
    uids = []
    for seed, accession in enumerate(accessions):
        files = write_study(
            folder / accession,
            patient_id=f"{patient_prefix}{seed}",
            patient_name="Tutorial^Patient",
            n_files=2,
            rows=8,
            columns=8,
            accession_number=accession,
            seed=seed,
        )
        uids.append(str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID))
    return uids
