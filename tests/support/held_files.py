"""A finished job on a real embedded server with files held back (burned-in annotations):
what the quarantine tests of the core, the CLI and the dashboard start from."""

from __future__ import annotations

import httpx

from anonapi_server.embedded import EmbeddedServer
from anonapi_server.sample_studies import write_study

PROJECT = "Wetenschap-Algemeen"


def job_with_held_files(server: EmbeddedServer, name: str, *, held: int = 2) -> int:
    """Create a job of one clean file and `held` files marked BurnedInAnnotation=YES in
    `in/<name>` on the server's share, wait until it is DONE, and return its id."""
    folder = server.share_root / "in" / name
    common = {"patient_id": "HELDPID", "patient_name": "Doe^Held", "rows": 8, "columns": 8}
    write_study(folder, n_files=1, **common)
    write_study(folder, n_files=held, burned_in=True, seed=1, suffix="b", **common)
    reply = httpx.post(
        f"{server.url}/create_job",
        data={
            "user_name": server.user_name,
            "source_type": "PATH",
            "source_path": server.unc("in", name),
            "destination_type": "PATH",
            "destination_path": server.unc("out"),
            "project_name": PROJECT,
            "description": "held files",
            "anonymizedpatientid": "PSEUDOH",
            "anonymizedpatientname": "Pseudo^Held",
        },
        headers={"Authorization": f"Token {server.token}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    job_id = int(reply.json()["job_id"])
    assert server.wait_for([job_id]) == {job_id: "DONE"}
    return job_id
