"""KubernetesProvider contract tests.

No Kubernetes cluster can run on this machine (see the project's infrastructure notes), so the
provider is given ``FakeCoreV1Api``: a recording stand-in for ``kubernetes.client.CoreV1Api``.
The tests check the exact API calls (the pod manifest is compared as the JSON the client would
send) and feed back JSON shaped like the API server's replies, parsed by the real client's
deserializer.
"""

from __future__ import annotations

import json

import pytest

from parsl.jobs.states import JobState
from parsl.providers.errors import SubmitException

kubernetes = pytest.importorskip(
    "kubernetes", reason="needs the kubernetes client (parsl-providers[kubernetes])"
)
from kubernetes.client import ApiClient  # noqa: E402 (after the importorskip)
from kubernetes.client.rest import ApiException  # noqa: E402

_api = ApiClient()


def parse(data: dict, kind: str):
    """Deserialize API-server JSON into client models, as the real client does."""
    return _api.deserialize(json.dumps(data), kind, "application/json")


def pod_json(
    name: str, job_id: str, phase: str, container: dict | None = None, namespace: str = "parsl"
) -> dict:
    status: dict = {
        "phase": phase,
        "hostIP": "10.1.0.4",
        "podIP": "10.244.1.7",
        "startTime": "2026-11-21T10:00:00Z",
        "qosClass": "Burstable",
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-21T10:00:00Z"}
        ],
    }
    if container is not None:
        status["containerStatuses"] = [
            {
                "name": job_id,
                "image": "python:3.11",
                "imageID": "",
                "ready": phase == "Running",
                "restartCount": 0,
                "started": False,
                "state": container,
                "lastState": {},
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": "4b3a1c8e-0000-4000-8000-0000000000" + job_id[:2],
            "resourceVersion": "1234",
            "creationTimestamp": "2026-11-21T10:00:00Z",
            "labels": {"parsl-job-id": job_id},
        },
        "spec": {
            "containers": [{"name": job_id, "image": "python:3.11"}],
            "nodeName": "node-1",
            "restartPolicy": "Never",
        },
        "status": status,
    }


class FakeCoreV1Api:
    """Recording stand-in for CoreV1Api (no cluster can run here): it records each call and
    answers from ``pods`` (name -> API JSON) the way the API server would."""

    def __init__(self, namespace: str = "parsl"):
        self.calls: list[tuple[str, dict]] = []
        self.namespace = namespace
        self.pods: dict[str, dict] = {}
        self.refuse: ApiException | None = None

    def create_namespaced_pod(self, namespace, body, **kw):
        self.calls.append(("create_namespaced_pod", {"namespace": namespace, "body": body, **kw}))
        if self.refuse is not None:
            raise self.refuse
        doc = _api.sanitize_for_serialization(body)
        job = doc["metadata"]["labels"]["parsl-job-id"]
        self.pods[doc["metadata"]["name"]] = pod_json(
            doc["metadata"]["name"], job, "Pending", namespace=namespace
        )
        return parse(self.pods[doc["metadata"]["name"]], "V1Pod")

    def list_namespaced_pod(self, namespace, label_selector=None, **kw):
        self.calls.append(("list_namespaced_pod", {"namespace": namespace, "label_selector": label_selector}))
        wanted = None
        if label_selector:
            key, _, rest = label_selector.partition(" in ")
            assert key == "parsl-job-id", label_selector
            wanted = set(rest.strip("()").split(","))
        items = [
            p
            for p in self.pods.values()
            if wanted is None or p["metadata"]["labels"]["parsl-job-id"] in wanted
        ]
        return parse(
            {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "99"}, "items": items},
            "V1PodList",
        )

    def delete_namespaced_pod(self, name, namespace, body=None, **kw):
        self.calls.append(("delete_namespaced_pod", {"name": name, "namespace": namespace}))
        if name not in self.pods:
            raise ApiException(status=404, reason="Not Found")
        doc = self.pods.pop(name)
        return parse(doc, "V1Pod")

    def set_phase(self, job_id: str, phase: str, container: dict | None = None):
        for name, doc in self.pods.items():
            if doc["metadata"]["labels"]["parsl-job-id"] == job_id:
                self.pods[name] = pod_json(name, job_id, phase, container, namespace=self.namespace)


def make(fake, **kw):
    from parsl_providers.kubernetes import KubernetesProvider

    opts = dict(image="python:3.11", namespace="parsl", kube_client=fake)
    opts.update(kw)
    return KubernetesProvider(**opts)


def test_contract_pod_manifest_is_exact():
    fake = FakeCoreV1Api()
    p = make(
        fake,
        worker_init="source /opt/env.sh",
        max_cpu=4,
        max_mem="2Gi",
        init_cpu=0.5,
        init_mem="1Gi",
        extra_limits={"nvidia.com/gpu": "1"},
        extra_requests={"ephemeral-storage": "1Gi"},
        user_id="1000",
        group_id="100",
        run_as_non_root=True,
        secret="regcred",
        persistent_volumes=[("data-claim", "/data"), ("scratch", "/scratch")],
        service_account_name="parsl-runner",
        annotations={"team": "science"},
        pod_name="My_Workers",
    )
    jid = p.submit("process_worker_pool.py -a 10.0.0.1 --block_id=3", 1, "parsl.kube")
    [(name, call)] = fake.calls
    assert name == "create_namespaced_pod" and call["namespace"] == "parsl"
    assert _api.sanitize_for_serialization(call["body"]) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"my-workers.{jid}",
            "labels": {"parsl-job-id": jid},
            "annotations": {"team": "science"},
        },
        "spec": {
            "containers": [
                {
                    "name": jid,
                    "image": "python:3.11",
                    "command": ["/bin/bash"],
                    "args": ["-c", "source /opt/env.sh\n\nprocess_worker_pool.py -a 10.0.0.1 --block_id=3\n"],
                    "env": [{"name": "PARSL_KUBERNETES_JOB_ID", "value": jid}],
                    "resources": {
                        "limits": {"cpu": "4", "memory": "2Gi", "nvidia.com/gpu": "1"},
                        "requests": {"cpu": "0.5", "memory": "1Gi", "ephemeral-storage": "1Gi"},
                    },
                    "securityContext": {"runAsUser": 1000, "runAsGroup": 100, "runAsNonRoot": True},
                    "volumeMounts": [
                        {"name": "data-claim", "mountPath": "/data"},
                        {"name": "scratch", "mountPath": "/scratch"},
                    ],
                }
            ],
            "imagePullSecrets": [{"name": "regcred"}],
            "restartPolicy": "Never",
            "serviceAccountName": "parsl-runner",
            "volumes": [
                {"name": "data-claim", "persistentVolumeClaim": {"claimName": "data-claim"}},
                {"name": "scratch", "persistentVolumeClaim": {"claimName": "scratch"}},
            ],
        },
    }


def test_contract_minimal_pod_has_defaults_and_nothing_else():
    fake = FakeCoreV1Api()
    p = make(fake)
    assert p.init_blocks == 4 and p.max_blocks == 10 and p.label == "kubernetes"
    jid = p.submit("true", 1, "parsl.kube")
    body = _api.sanitize_for_serialization(fake.calls[0][1]["body"])
    assert body["metadata"] == {"name": f"parsl.kube.{jid}", "labels": {"parsl-job-id": jid}}
    [c] = body["spec"]["containers"]
    assert c["resources"] == {
        "limits": {"cpu": "2", "memory": "500Mi"},
        "requests": {"cpu": "1", "memory": "250Mi"},
    }
    assert "securityContext" not in c and "volumeMounts" not in c
    assert set(body["spec"]) == {"containers", "restartPolicy"}


def test_contract_status_is_one_list_call_per_poll():
    fake = FakeCoreV1Api()
    p = make(fake)
    a, b, c = (p.submit("true", 1) for _ in range(3))
    fake.set_phase(a, "Running", {"running": {"startedAt": "2026-11-21T10:00:05Z"}})
    fake.set_phase(b, "Pending", {"waiting": {"reason": "ContainerCreating"}})
    fake.set_phase(
        c,
        "Succeeded",
        {
            "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": "2026-11-21T10:00:05Z",
                "finishedAt": "2026-11-21T10:01:00Z",
            }
        },
    )
    fake.calls.clear()
    states = p.status([a, b, c])
    assert [s.state for s in states] == [JobState.RUNNING, JobState.PENDING, JobState.COMPLETED]
    assert states[2].exit_code == 0
    assert fake.calls == [
        (
            "list_namespaced_pod",
            {"namespace": "parsl", "label_selector": f"parsl-job-id in ({','.join(sorted([a, b, c]))})"},
        )
    ]
    fake.calls.clear()
    p.status([c])  # terminal blocks are not polled again
    assert fake.calls == []


def test_contract_failed_container_reports_exit_code():
    fake = FakeCoreV1Api()
    p = make(fake)
    jid = p.submit("false", 1)
    fake.set_phase(
        jid,
        "Failed",
        {
            "terminated": {
                "exitCode": 3,
                "reason": "Error",
                "startedAt": "2026-11-21T10:00:05Z",
                "finishedAt": "2026-11-21T10:00:06Z",
            }
        },
    )
    [s] = p.status([jid])
    assert s.state == JobState.FAILED and s.exit_code == 3 and "exited with code 3 (Error)" in s.message


def test_contract_stuck_pod_fails_and_is_deleted():
    fake = FakeCoreV1Api()
    p = make(fake, image="no/such:image")
    jid = p.submit("true", 1)
    fake.set_phase(
        jid,
        "Pending",
        {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "no/such:image"'}},
    )
    [s] = p.status([jid])
    assert s.state == JobState.FAILED and "ImagePullBackOff" in s.message and "no/such:image" in s.message
    assert fake.calls[-1] == (
        "delete_namespaced_pod",
        {"name": p.resources[jid]["pod_name"], "namespace": "parsl"},
    )


def test_contract_cancel_deletes_the_pod():
    fake = FakeCoreV1Api()
    p = make(fake)
    jid = p.submit("true", 1)
    assert p.cancel([jid, "nope"]) == [True, False]
    assert (
        "delete_namespaced_pod",
        {"name": p.resources[jid]["pod_name"], "namespace": "parsl"},
    ) in fake.calls
    assert p.status([jid])[0].state == JobState.CANCELLED
    assert p.cancel([jid]) == [True]  # already gone (404) still counts as cancelled


def test_contract_vanished_pod_is_missing():
    fake = FakeCoreV1Api()
    p = make(fake)
    jid = p.submit("true", 1)
    fake.pods.clear()
    assert p.status([jid, "unknown"])[0].state == JobState.MISSING
    assert p.status(["unknown"])[0].state == JobState.MISSING


def test_contract_refused_pod_raises_submit_exception():
    fake = FakeCoreV1Api()
    fake.refuse = ApiException(status=403, reason="Forbidden")
    p = make(fake)
    with pytest.raises(SubmitException, match="403 Forbidden"):
        p.submit("true", 1)
    assert p.resources == {}


def test_contract_no_cluster_configuration_says_so(tmp_path, monkeypatch):
    from kubernetes.config.config_exception import ConfigException

    from parsl_providers.kubernetes import KubernetesProvider

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigException, match="no cluster"):
        KubernetesProvider(image="python:3.11")


def test_contract_htex_block_becomes_a_pod(tmp_path):
    """A real HTEX scales out through the provider: the pod runs the worker pool command."""
    import parsl
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor

    fake = FakeCoreV1Api()
    p = make(fake, init_blocks=1, max_blocks=1, worker_init="pip list")
    htex = HighThroughputExecutor(label="kube", provider=p, address="10.0.0.9", encrypted=False)
    dfk = parsl.load(Config(executors=[htex], run_dir=str(tmp_path / "runinfo"), strategy="none"))
    try:
        [(_, call)] = [c for c in fake.calls if c[0] == "create_namespaced_pod"]
        script = _api.sanitize_for_serialization(call["body"])["spec"]["containers"][0]["args"][1]
        assert script.startswith("pip list\n") and "process_worker_pool" in script
        assert "-a 10.0.0.9" in script
    finally:
        dfk.cleanup()
    assert [c[0] for c in fake.calls].count("delete_namespaced_pod") == 1
