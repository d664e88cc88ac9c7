"""The IDIS functions over HTTP: replies, status codes, error texts; never a 500 for bad input."""

from __future__ import annotations

import httpx
import pytest

from anonapi_core.models import CORE_FIELDS, EXTENDED_FIELDS, JobInfo, parse_job_list
from anonapi_server.admin import add_project, add_user
from anonapi_server.config import ServerHome
from anonapi_server.testing import EmbeddedServer
from tests.server.conftest import (
    PROJECT,
    call,
    create_path_job,
    reset_job,
    set_opt_out_ignore,
)


def inactive_jobs(server: EmbeddedServer, count: int) -> list[int]:
    """Jobs straight in the store, INACTIVE so that no worker picks them up."""
    values = {
        "user_name": server.user_name,
        "status": "INACTIVE",
        "project_name": PROJECT,
        "source_type": "PATH",
        "source_path": server.unc("nowhere"),
        "destination_path": server.unc("out"),
    }
    return [server.store.create_job(values)["job_id"] for _ in range(count)]


def test_root_answers_404_with_documentation_as_idis_does(server: EmbeddedServer):
    reply = httpx.get(server.url + "/")
    assert reply.status_code == 404
    assert "create_job" in reply.json()["documentation"]["functions"]


def test_an_unknown_function_answers_404_with_documentation(server: EmbeddedServer):
    reply = call(server, "no_such_function")
    assert reply.status_code == 404
    assert "documentation" in reply.json()


@pytest.mark.parametrize(("user_name", "token"), [("testuser", "wrong-token"), ("nobody", None)])
def test_a_wrong_token_or_unknown_user_gets_401(server: EmbeddedServer, user_name, token):
    reply = call(server, "get_jobs", user_name=user_name, token=token)
    assert reply.status_code == 401
    assert "wrong token" in reply.json()["errors"]["authorization"]


def test_a_call_without_token_header_gets_401(server: EmbeddedServer):
    reply = httpx.get(f"{server.url}/get_jobs", params={"user_name": server.user_name})
    assert reply.status_code == 401


@pytest.mark.parametrize(("function", "method"), [("get_jobs", "POST"), ("create_job", "GET")])
def test_the_wrong_method_gets_405(server: EmbeddedServer, function: str, method: str):
    assert call(server, function, method).status_code == 405


def test_get_job_without_job_id_gives_idis_error(server: EmbeddedServer):
    reply = call(server, "get_job")
    assert reply.status_code == 400
    assert reply.json() == {"errors": {"job_id": "Required parameter job_id not supplied"}}


def test_get_job_of_an_unknown_job_gives_idis_error(server: EmbeddedServer):
    reply = call(server, "get_job", job_id=987654)
    assert reply.status_code == 400
    assert reply.json() == {"errors": {"job_id": "Job with id 987654 does not exist"}}


@pytest.mark.parametrize("function", ["get_job", "cancel_job", "modify_job"])
def test_a_job_id_that_is_not_a_number_gets_400(server: EmbeddedServer, function: str):
    method = "GET" if function == "get_job" else "POST"
    reply = call(server, function, method, job_id="12a")
    assert reply.status_code == 400
    assert "'12a' is not a whole number" in reply.json()["errors"]["job_id"]


def test_get_job_returns_every_extended_field(server: EmbeddedServer):
    (job_id,) = inactive_jobs(server, 1)
    body = call(server, "get_job", job_id=job_id).json()
    assert set(CORE_FIELDS) | set(EXTENDED_FIELDS) <= set(body)
    assert JobInfo.parse(body).job_id == job_id


def test_get_jobs_gives_the_latest_100_newest_first(server: EmbeddedServer):
    created = inactive_jobs(server, 105)
    body = call(server, "get_jobs").json()
    ids = [int(key) for key in body]
    assert ids == sorted(created, reverse=True)[:100]
    assert all(set(job) == set(CORE_FIELDS) for job in body.values())


def test_get_jobs_list_returns_known_ids_keyed_and_leaves_out_unknown(server: EmbeddedServer):
    first, second = inactive_jobs(server, 2)
    body = call(server, "get_jobs_list", job_ids=[second, 999999, first]).json()
    assert list(body) == [str(second), str(first)]
    assert [job.job_id for job in parse_job_list(body)] == [second, first]


def test_get_jobs_list_handles_thousands_of_ids_in_one_call(server: EmbeddedServer):
    created = inactive_jobs(server, 20)
    asked = list(range(1, 3001)) + created
    body = call(server, "get_jobs_list_extended", job_ids=asked).json()
    assert {int(k) for k in body} >= set(created)
    assert all(set(EXTENDED_FIELDS) <= set(job) for job in body.values())


@pytest.mark.parametrize("function", ["get_jobs_list", "get_jobs_list_extended"])
def test_list_calls_leave_out_ids_that_are_not_numbers_as_unknown(
    server: EmbeddedServer, function: str
):
    (job_id,) = inactive_jobs(server, 1)
    reply = call(server, function, job_ids=["abc", str(job_id), "12a", ""])
    assert reply.status_code == 200
    assert list(reply.json()) == [str(job_id)]
    assert call(server, function, job_ids=["abc"]).json() == {}


def test_get_jobs_list_without_ids_gets_400(server: EmbeddedServer):
    reply = call(server, "get_jobs_list")
    assert reply.json() == {"errors": {"job_ids": "Required parameter job_ids not supplied"}}


def test_query_string_parameters_are_accepted(server: EmbeddedServer):
    (job_id,) = inactive_jobs(server, 1)
    reply = httpx.get(
        f"{server.url}/get_job",
        params={"user_name": server.user_name, "job_id": job_id},
        headers={"Authorization": f"Token {server.token}"},
    )
    assert reply.json()["job_id"] == job_id


def test_create_job_returns_the_new_job_active(server: EmbeddedServer):
    reply = create_path_job(server, "folder:" + server.unc("does", "not", "exist"))
    job = JobInfo.parse(reply.json())
    assert job.status == "ACTIVE"
    assert job.source_path == "folder:" + server.unc("does", "not", "exist")
    assert job.source_anonymizedpatientid == "PSEUDO1"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("source_path", r"C:\data\study", "is not a UNC path"),
        ("source_path", "folder:/srv/data/study", "is not a UNC path"),
        ("source_path", r"folder:\\localhost\data\..\..\etc", "contains '..'"),
        ("source_path", r"\\elsewhere\data\study", "is not a share on this server"),
        ("destination_path", r"D:\out", "is not a UNC path"),
        ("destination_path", r"\\localhost\nosuchshare\out", "is not a share on this server"),
        ("source_type", "FTP", "Unknown source_type FTP"),
        ("destination_type", "PACS", "Unknown destination_type PACS"),
        ("project_name", "NoSuchProject", "Unknown project_name NoSuchProject"),
        ("priority", "high", "'high' is not a whole number"),
    ],
)
def test_create_job_refuses_bad_parameters_with_a_clear_400(
    server: EmbeddedServer, field: str, value: str, message: str
):
    values = {"source_path": "folder:" + server.unc("in"), field: value}
    reply = create_path_job(server, **values)
    assert reply.status_code == 400
    assert message in reply.json()["errors"][field]


@pytest.mark.parametrize("missing", ["project_name", "destination_path", "source_type"])
def test_create_job_names_a_missing_required_parameter(server: EmbeddedServer, missing: str):
    values = {
        "source_type": "PATH",
        "source_path": "folder:" + server.unc("in"),
        "destination_path": server.unc("out"),
        "project_name": PROJECT,
    }
    del values[missing]
    reply = call(server, "create_job", "POST", **values)
    assert reply.status_code == 400
    assert reply.json() == {"errors": {missing: f"Required parameter {missing} not supplied"}}


def test_create_job_for_a_project_the_user_is_not_connected_to_gives_idis_error(
    server: EmbeddedServer,
):
    home = ServerHome(server.home)
    add_project(home, "Other")
    token = add_user(home, "outsider", projects=["Other"])
    reply = create_path_job(server, "folder:" + server.unc("in"), user_name="outsider", token=token)
    assert reply.status_code == 400
    assert reply.json() == {
        "errors": {
            "AnonymizeInputException": "given user_name `outsider` is not connected to given "
            f"project_name {PROJECT}"
        }
    }


def test_cancel_job_sets_the_job_inactive(server: EmbeddedServer):
    job_id = create_path_job(server, "folder:" + server.unc("missing")).json()["job_id"]
    reply = call(server, "cancel_job", "POST", job_id=job_id)
    assert reply.json()["status"] == "INACTIVE"


def test_modify_job_reset_as_the_original_sends_it_makes_the_job_active(server: EmbeddedServer):
    (job_id,) = inactive_jobs(server, 1)
    reply = reset_job(server, job_id)
    assert reply.status_code == 200
    assert reply.json()["status"] in ("ACTIVE", "UPLOADED", "ERROR")


def test_modify_job_sets_opt_out_ignore_from_true_false_strings(server: EmbeddedServer):
    (job_id,) = inactive_jobs(server, 1)
    set_opt_out_ignore(server, job_id, "consent")
    job = call(server, "get_job", job_id=job_id).json()
    assert job["source_ignore_opt_out"] is True
    assert job["source_ignore_opt_out_reason"] == "Reason: consent"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"colour": "red"}, "colour", "Unknown job field colour"),
        ({"status": "DONE"}, "status", "status can be set to ACTIVE"),
        ({"source_ignore_opt_out": "maybe"}, "source_ignore_opt_out", "is not True or False"),
        ({"priority": "x"}, "priority", "is not a whole number"),
        ({"files_processed": "7"}, "files_processed", "is set by the server"),
        ({"destination_path": "/tmp/out"}, "destination_path", "is not a UNC path"),
    ],
)
def test_modify_job_refuses_bad_fields_with_a_clear_400(
    server: EmbeddedServer, params: dict, field: str, message: str
):
    (job_id,) = inactive_jobs(server, 1)
    reply = call(server, "modify_job", "POST", job_id=job_id, **params)
    assert reply.status_code == 400
    assert message in reply.json()["errors"][field]


def test_a_body_that_is_not_utf8_gets_400_not_500(server: EmbeddedServer):
    reply = httpx.request(
        "GET",
        f"{server.url}/get_jobs",
        content=b"user_name=\xff\xfe",
        headers={"Authorization": f"Token {server.token}"},
    )
    assert reply.status_code == 400
