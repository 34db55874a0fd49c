"""GoogleCloudProvider contract tests.

Compute Engine cannot run here, so the provider is given ``FakeCompute``: a recording stand-in
for the googleapiclient resource ``build('compute', 'v1')`` returns (``resource().method(**kw)``
gives a request whose ``execute()`` answers). It records every call and answers with JSON shaped
like Compute Engine's replies (zones list, image family, insert/delete operations, instances.get).
"""

from __future__ import annotations

import pytest

from parsl.errors import ConfigurationError
from parsl.jobs.states import JobState
from parsl.providers.errors import SubmitException

PROJECT = "my-project"
ZONE_URL = f"https://compute.googleapis.com/compute/v1/projects/{PROJECT}/zones"
IMAGE = "https://compute.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20261110"


class HttpError(Exception):
    """Shaped like googleapiclient.errors.HttpError: the HTTP status is in ``resp.status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.resp = type("Resp", (), {"status": status})()


class _Request:
    def __init__(self, answer):
        self._answer = answer

    def execute(self):
        return self._answer() if callable(self._answer) else self._answer


class FakeCompute:
    """Recording stand-in for the Compute Engine API client (no cloud reachable here)."""

    def __init__(self, zones_pages: list[list[dict]] | None = None):
        self.calls: list[tuple[str, dict]] = []
        self.instances_db: dict[str, dict] = {}
        self.zones_pages = zones_pages or [
            [
                {
                    "kind": "compute#zone",
                    "id": "2231",
                    "name": "us-central1-a",
                    "status": "DOWN",
                    "region": f"{ZONE_URL[:-6]}/regions/us-central1",
                    "selfLink": f"{ZONE_URL}/us-central1-a",
                },
                {
                    "kind": "compute#zone",
                    "id": "2232",
                    "name": "us-central1-b",
                    "status": "UP",
                    "region": f"{ZONE_URL[:-6]}/regions/us-central1",
                    "selfLink": f"{ZONE_URL}/us-central1-b",
                },
                {
                    "kind": "compute#zone",
                    "id": "2290",
                    "name": "europe-west1-b",
                    "status": "UP",
                    "region": f"{ZONE_URL[:-6]}/regions/europe-west1",
                    "selfLink": f"{ZONE_URL}/europe-west1-b",
                },
            ]
        ]
        self.insert_error: dict | None = None
        self._resource = None

    # resources
    def zones(self):
        self._resource = "zones"
        return self

    def images(self):
        self._resource = "images"
        return self

    def instances(self):
        self._resource = "instances"
        return self

    def _record(self, method, kw):
        self.calls.append((f"{self._resource}.{method}", kw))

    # methods
    def list(self, **kw):
        self._record("list", kw)
        page = kw.pop("_page", 0)
        token = f"page{page + 1}" if page + 1 < len(self.zones_pages) else None
        answer = {
            "kind": "compute#zoneList",
            "id": f"projects/{PROJECT}/zones",
            "items": self.zones_pages[page],
            "selfLink": ZONE_URL,
        }
        if token:
            answer["nextPageToken"] = token
        req = _Request(answer)
        req.page = page
        return req

    def list_next(self, previous_request, previous_response):
        if not previous_response.get("nextPageToken"):
            return None
        return self.list(project=PROJECT, _page=previous_request.page + 1)

    def getFromFamily(self, **kw):
        self._record("getFromFamily", kw)
        return _Request(
            {
                "kind": "compute#image",
                "name": "debian-12-bookworm-v20261110",
                "family": kw["family"],
                "status": "READY",
                "selfLink": IMAGE,
                "diskSizeGb": "10",
            }
        )

    def _operation(self, op_type, target, error=None):
        op = {
            "kind": "compute#operation",
            "id": "7071",
            "name": f"operation-{op_type}-{target}",
            "zone": f"{ZONE_URL}/us-central1-b",
            "operationType": op_type,
            "targetLink": f"{ZONE_URL}/us-central1-b/instances/{target}",
            "status": "RUNNING",
            "user": "sa@my-project.iam.gserviceaccount.com",
            "progress": 0,
        }
        if error:
            op["status"] = "DONE"
            op["error"] = error
        return op

    def insert(self, **kw):
        self._record("insert", kw)
        name = kw["body"]["name"]
        if self.insert_error is None:
            self.instances_db[name] = {
                "kind": "compute#instance",
                "name": name,
                "status": "PROVISIONING",
                "zone": f"{ZONE_URL}/us-central1-b",
            }
        return _Request(self._operation("insert", name, self.insert_error))

    def get(self, **kw):
        self._record("get", kw)

        def answer():
            if kw["instance"] not in self.instances_db:
                raise HttpError(404, f"The resource '{kw['instance']}' was not found")
            return self.instances_db[kw["instance"]]

        return _Request(answer)

    def delete(self, **kw):
        self._record("delete", kw)

        def answer():
            if self.instances_db.pop(kw["instance"], None) is None:
                raise HttpError(404, f"The resource '{kw['instance']}' was not found")
            return self._operation("delete", kw["instance"])

        return _Request(answer)


def make(fake, **kw):
    from parsl_providers.googlecloud import GoogleCloudProvider

    opts = dict(
        project_id=PROJECT,
        key_file="/secrets/sa.json",
        region="us-central1",
        os_project="debian-cloud",
        os_family="debian-12",
        compute=fake,
    )
    opts.update(kw)
    return GoogleCloudProvider(**opts)


def test_contract_zone_is_first_up_zone_of_the_region():
    fake = FakeCompute()
    p = make(fake)
    assert p.zone == "us-central1-b" and p.label == "google_cloud"
    assert fake.calls == [("zones.list", {"project": PROJECT})]


def test_contract_zone_found_on_a_later_page_and_missing_region_fails():
    other = [{"kind": "compute#zone", "name": "asia-east1-a", "status": "UP"}]
    fake = FakeCompute(zones_pages=[other, [{"kind": "compute#zone", "name": "us-east4-c", "status": "UP"}]])
    assert make(fake, region="us-east4").zone == "us-east4-c"
    with pytest.raises(ConfigurationError, match="'us-west9'"):
        make(FakeCompute(zones_pages=[other]), region="us-west9")


def test_contract_instance_insert_is_exact():
    fake = FakeCompute()
    p = make(fake, instance_type="e2-standard-4")
    fake.calls.clear()
    jid = p.submit("process_worker_pool.py --block_id=0", 2)
    assert [c[0] for c in fake.calls] == ["images.getFromFamily", "instances.insert"]
    assert fake.calls[0][1] == {"project": "debian-cloud", "family": "debian-12"}
    insert = fake.calls[1][1]
    assert insert["project"] == PROJECT and insert["zone"] == "us-central1-b"
    body = insert["body"]
    script = body["metadata"]["items"][0]["value"]
    assert body == {
        "name": jid,
        "machineType": "zones/us-central1-b/machineTypes/e2-standard-4",
        "disks": [{"boot": True, "autoDelete": True, "initializeParams": {"sourceImage": IMAGE}}],
        "networkInterfaces": [
            {
                "network": "global/networks/default",
                "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "name": "External NAT"}],
            }
        ],
        "serviceAccounts": [
            {
                "email": "default",
                "scopes": [
                    "https://www.googleapis.com/auth/devstorage.read_write",
                    "https://www.googleapis.com/auth/logging.write",
                ],
            }
        ],
        "labels": {"parsl-block": jid},
        "metadata": {"items": [{"key": "startup-script", "value": script}]},
    }
    # SingleNodeLauncher: two copies of the command on the one node
    assert script.count("process_worker_pool.py --block_id=0") == 1 and "WORKERCOUNT=2" in script
    assert jid.startswith("parslauto") and p.submit("true", 1) != jid


def test_contract_status_follows_the_instance():
    fake = FakeCompute()
    p = make(fake)
    jid = p.submit("true", 1)
    assert p.status([jid])[0].state == JobState.PENDING
    fake.instances_db[jid]["status"] = "RUNNING"
    assert p.status([jid])[0].state == JobState.RUNNING
    assert fake.calls[-1] == ("instances.get", {"project": PROJECT, "zone": "us-central1-b", "instance": jid})
    fake.instances_db[jid].update(status="TERMINATED", statusMessage="Instance was preempted")
    [s] = p.status([jid])
    assert s.state == JobState.COMPLETED and s.message == "Instance was preempted"
    n = len(fake.calls)
    p.status([jid])  # terminal: not polled again
    assert len(fake.calls) == n


def test_contract_cancel_deletes_and_vanished_is_missing():
    fake = FakeCompute()
    p = make(fake)
    a, b = p.submit("true", 1), p.submit("true", 1)
    assert p.cancel([a]) == [True]
    assert fake.calls[-1] == (
        "instances.delete",
        {"project": PROJECT, "zone": "us-central1-b", "instance": a},
    )
    assert p.status([a])[0].state == JobState.CANCELLED
    del fake.instances_db[b]
    assert p.status([b, "parslauto-none"])[0].state == JobState.MISSING
    assert p.status(["parslauto-none"])[0].state == JobState.MISSING


def test_contract_insert_error_raises_submit_exception():
    fake = FakeCompute()
    fake.insert_error = {
        "errors": [{"code": "QUOTA_EXCEEDED", "message": "Quota 'CPUS' exceeded. Limit: 8.0"}]
    }
    p = make(fake)
    with pytest.raises(SubmitException, match="QUOTA_EXCEEDED: Quota 'CPUS' exceeded"):
        p.submit("true", 1)
    assert p.resources == {}


def test_contract_bye_deletes_live_instances():
    fake = FakeCompute()
    p = make(fake)
    a, b = p.submit("true", 1), p.submit("true", 1)
    p.cancel([a])
    fake.calls.clear()
    p.bye()
    assert fake.calls == [("instances.delete", {"project": PROJECT, "zone": "us-central1-b", "instance": b})]
    assert fake.instances_db == {}
