"""Error signatures: what differs per job is normalised away, what differs per cause is kept."""

from __future__ import annotations

from anonapi_core.models import JobInfo
from anonapi_core.triage import NO_MESSAGE, find_group, group_errors, signature


def job(job_id: int, status: str, error: str | None) -> JobInfo:
    return JobInfo(
        job_id=job_id,
        date="2026-12-07T05:00:00",
        user_name="u",
        status=status,
        error=error,
        description=None,
        project_name="p",
        priority=0,
        files_downloaded=0,
        files_processed=0,
    )


READ = (
    r"Could not read source file \\srv\data\in\s{n}\IM{n}.dcm on share \\srv\data "
    "(No such file or directory): check that the share is reachable and the file readable"
)


def test_paths_numbers_names_and_uids_are_normalised_away() -> None:
    assert signature(READ.format(n=1)) == signature(READ.format(n=27))
    assert signature('Patient "123456" does not want his') == signature(
        'Patient "9" does not want his'
    )
    assert signature("uid 1.2.840.113619.2.55.3 broken") == "uid <uid> broken"
    assert signature("Source C:\\studies\\p01 holds no files") == "Source <path> holds no files"
    assert signature("Source /srv/share/p 7 holds") == "Source <path> <n> holds"
    assert signature("  ") == NO_MESSAGE and signature(None) == NO_MESSAGE


def test_different_causes_keep_different_signatures() -> None:
    assert signature("Project X no longer exists") != signature(READ.format(n=1))
    assert signature("no PACS configured for IDC_WADO") == "no PACS configured for IDC_WADO"


def test_groups_are_largest_first_with_stable_ids_and_only_errors() -> None:
    jobs = [job(n, "ERROR", READ.format(n=n)) for n in range(1, 4)]
    jobs += [job(10, "ERROR", "Project 'A' no longer exists"), job(11, "DONE", None)]
    groups = group_errors(jobs)
    assert [g.count for g in groups] == [3, 1]
    assert groups[0].job_ids == ["1", "2", "3"]
    assert groups[0].example == READ.format(n=1)
    again = group_errors(list(reversed(jobs)))
    assert [g.id for g in again] == [g.id for g in groups]
    assert find_group(groups, groups[1].id) is groups[1]
    assert find_group(groups, "1") is groups[0]
    assert find_group(groups, "3") is None and find_group(groups, "zzz") is None
