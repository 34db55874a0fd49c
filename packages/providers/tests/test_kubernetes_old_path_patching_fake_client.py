"""What Parsl's tests (and users' tests written like them) patch at the old path
``parsl.providers.kubernetes.kube`` reaches the provider: ``config``, ``client``, ``logger``
and ``KubernetesProvider._create_pod``.

No Kubernetes cluster can run here, so the API client is a MagicMock stand-in (as in Parsl's
own tests); the manifests it receives are real ``kubernetes.client`` models.
"""

from __future__ import annotations

from unittest import mock

import pytest

kubernetes = pytest.importorskip(
    "kubernetes", reason="needs the kubernetes client (parsl-providers[kubernetes])"
)

KUBE = "parsl.providers.kubernetes.kube"


@pytest.fixture
def fake_config():
    with mock.patch(f"{KUBE}.config") as config:
        yield config


@pytest.fixture
def fake_api(fake_config):
    api = mock.MagicMock()
    with mock.patch(f"{KUBE}.client.CoreV1Api", return_value=api):
        yield api


def test_the_old_path_is_the_provider_module():
    import kubernetes.client
    import kubernetes.config

    import parsl.providers.kubernetes.kube as kube
    import parsl_providers.kubernetes.provider as provider

    assert kube is provider
    assert kube.KubernetesProvider is provider.KubernetesProvider
    assert kube.config is kubernetes.config and kube.client is kubernetes.client


def test_patched_config_and_client_are_what_the_provider_uses(fake_config, fake_api):
    from parsl.providers.kubernetes.kube import KubernetesProvider

    p = KubernetesProvider(
        image="img",
        namespace="ns",
        persistent_volumes=[("claim", "/data")],
        annotations={"a": "b"},
        service_account_name="runner",
    )
    fake_config.load_kube_config.assert_called_once_with()
    assert p.kube_client is fake_api
    job_id = p.submit(cmd_string="run-worker", tasks_per_node=1, job_name="test.job")
    call = fake_api.create_namespaced_pod.call_args.kwargs
    pod = call["body"]
    assert call["namespace"] == "ns"
    assert pod.metadata.name == f"test.job.{job_id}" and pod.metadata.annotations == {"a": "b"}
    assert pod.spec.service_account_name == "runner"
    [container] = pod.spec.containers
    assert container.name == job_id and container.args == ["-c", "run-worker\n"]
    assert [(m.name, m.mount_path) for m in container.volume_mounts] == [("claim", "/data")]


def test_create_pod_is_called_with_parsls_keywords(fake_config):
    from parsl.providers.kubernetes.kube import KubernetesProvider

    with mock.patch(f"{KUBE}.KubernetesProvider._create_pod") as create:
        p = KubernetesProvider(image="img", worker_init="module load x", kube_client=mock.MagicMock())
        job_id = p.submit("cmd", 1, "my.job")
    kw = create.call_args.kwargs
    assert kw == {
        "image": "img",
        "pod_name": f"my.job.{job_id}",
        "job_id": job_id,
        "cmd_string": "module load x\n\ncmd\n",
        "volumes": [],
        "service_account_name": None,
        "annotations": None,
    }


@pytest.mark.parametrize("job_name", ["", ".", "-", "a.-.a", "$$$"])
def test_an_unusable_job_name_is_logged_in_parsls_words(fake_config, job_name):
    from parsl.providers.kubernetes.kube import KubernetesProvider

    with (
        mock.patch(f"{KUBE}.KubernetesProvider._create_pod") as create,
        mock.patch(f"{KUBE}.logger") as logger,
    ):
        p = KubernetesProvider(image="img", kube_client=mock.MagicMock())
        job_id = p.submit("cmd", 1, job_name)
    assert logger.warning.call_count == 1
    assert f"Invalid pod name '{job_name}' for job '{job_id}'" in logger.warning.call_args.args[0]
    assert create.call_args.kwargs["pod_name"] == f"parsl.kube.{job_id}"


def test_create_pod_port_adds_a_container_port(fake_config):
    from parsl.providers.kubernetes.kube import KubernetesProvider

    api = mock.MagicMock()
    p = KubernetesProvider(image="img", kube_client=api)
    p._create_pod(image="other", pod_name="pod.x", job_id="x", port=8080, cmd_string="echo")
    [container] = api.create_namespaced_pod.call_args.kwargs["body"].spec.containers
    assert container.image == "other" and [q.container_port for q in container.ports] == [8080]
