"""``GoogleCloudProvider``: each block is one Compute Engine instance whose startup script runs
the worker command.

It talks to the Compute Engine v1 REST API through a googleapiclient-style resource object
(``compute.instances().insert(...).execute()``): by default the one
``googleapiclient.discovery.build('compute', google_version)`` returns (install
``google-api-python-client``), or any object with the same methods passed as ``compute``.
"""

from __future__ import annotations

import atexit
import logging
import os
import uuid
import weakref
from typing import Any

from parsl.errors import ConfigurationError, OptionalModuleMissing
from parsl.jobs.states import JobState, JobStatus
from parsl.launchers import SingleNodeLauncher
from parsl.launchers.wrap import wrap_command
from parsl.providers.base import ExecutionProvider
from parsl.providers.errors import SubmitException
from parsl.utils import RepresentationMixin
from parsl_providers.job_states import job_state_table, recorded_statuses

logger = logging.getLogger(__name__)

__all__ = ["GCE_STATES", "GoogleCloudProvider"]

#: Compute Engine instance status -> block state
GCE_STATES = job_state_table(
    PENDING="PROVISIONING STAGING PENDING",
    RUNNING="RUNNING REPAIRING",
    COMPLETED="STOPPING STOPPED SUSPENDING SUSPENDED TERMINATED",
)

#: OAuth scopes the instances' default service account gets
SCOPES = [
    "https://www.googleapis.com/auth/devstorage.read_write",
    "https://www.googleapis.com/auth/logging.write",
]


def _http_status(error: BaseException) -> int | None:
    """The HTTP status of a googleapiclient ``HttpError`` (without importing it), else None."""
    resp = getattr(error, "resp", None)
    status = getattr(resp, "status", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


class GoogleCloudProvider(ExecutionProvider, RepresentationMixin):
    """Provide blocks as Google Compute Engine instances.

    Parameters keep Parsl's names: ``project_id``, ``key_file`` (service-account JSON key; it
    becomes ``GOOGLE_APPLICATION_CREDENTIALS``), ``region`` (the first zone of it that is UP
    is used), ``os_project`` and ``os_family`` (the boot image is the family's latest),
    ``google_version`` (``v1``), ``instance_type`` (``n1-standard-1``), ``init_blocks``,
    ``min_blocks``, ``max_blocks``, ``launcher`` and ``parallelism``. ``compute`` is an
    addition: a googleapiclient-style Compute Engine resource to use instead of building one.
    """

    def __init__(
        self,
        project_id: str,
        key_file: str,
        region: str,
        os_project: str,
        os_family: str,
        google_version: str = "v1",
        instance_type: str = "n1-standard-1",
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 10,
        launcher: Any = None,
        parallelism: float = 1,
        *,
        compute: Any = None,
    ):
        self.project_id = project_id
        self.key_file = key_file
        self.region = region
        self.os_project = os_project
        self.os_family = os_family
        self.google_version = google_version
        self.instance_type = instance_type
        self.init_blocks = init_blocks
        self.min_blocks = min_blocks
        self.max_blocks = max_blocks
        self.nodes_per_block = 1
        self.launcher = launcher if launcher is not None else SingleNodeLauncher()
        self.parallelism = parallelism
        self.script_dir: str | None = None
        self.resources: dict[str, dict[str, Any]] = {}
        self._prefix = f"parslauto{uuid.uuid4().hex[:8]}"
        self.num_instances = 0
        if compute is None:
            if key_file:
                os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = key_file
            try:
                import googleapiclient.discovery
            except ImportError as e:
                raise OptionalModuleMissing(
                    ["googleapiclient"],
                    "GoogleCloudProvider needs the Google API "
                    "client: pip install 'parsl-providers[googlecloud]'",
                ) from e
            compute = googleapiclient.discovery.build("compute", google_version)
        self.client = compute
        self.zone = self.get_zone(region)
        me = weakref.ref(self)
        atexit.register(_cancel_at_exit, me)

    @property
    def label(self) -> str:
        return "google_cloud"

    @property
    def status_polling_interval(self) -> int:
        return 60

    def get_zone(self, region: str) -> str:
        """The first zone of ``region`` whose status is UP."""
        zones = self.client.zones()
        request = zones.list(project=self.project_id)
        while request is not None:
            page = request.execute()
            for zone in page.get("items", []):
                if zone["name"].startswith(f"{region}-") and zone.get("status") == "UP":
                    return zone["name"]
            next_page = getattr(zones, "list_next", None)
            request = (
                next_page(request, page) if next_page is not None and page.get("nextPageToken") else None
            )
        raise ConfigurationError(
            f"GoogleCloudProvider: project {self.project_id!r} has no zone of region "
            f"{region!r} that is UP; check region (e.g. 'us-central1')"
        )

    def instance_body(self, name: str, startup_script: str, source_image: str) -> dict[str, Any]:
        """The ``instances.insert`` request body for one block."""
        return {
            "name": name,
            "machineType": f"zones/{self.zone}/machineTypes/{self.instance_type}",
            "disks": [{"boot": True, "autoDelete": True, "initializeParams": {"sourceImage": source_image}}],
            "networkInterfaces": [
                {
                    "network": "global/networks/default",
                    "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "name": "External NAT"}],
                }
            ],
            "serviceAccounts": [{"email": "default", "scopes": list(SCOPES)}],
            "labels": {"parsl-block": name},
            "metadata": {"items": [{"key": "startup-script", "value": startup_script}]},
        }

    def create_instance(self, command: str = "") -> tuple[dict[str, Any], str]:
        """Insert one instance running ``command`` at boot; return the operation and its name."""
        name = f"{self._prefix}-{self.num_instances}"
        self.num_instances += 1
        image = self.client.images().getFromFamily(project=self.os_project, family=self.os_family).execute()
        operation = (
            self.client.instances()
            .insert(
                project=self.project_id,
                zone=self.zone,
                body=self.instance_body(name, command, image["selfLink"]),
            )
            .execute()
        )
        return operation, name

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.gcs") -> str:
        """Start one instance running ``command``; its name is the job id."""
        wrapped = wrap_command(self.launcher, command, tasks_per_node, 1, self.script_dir)
        try:
            operation, name = self.create_instance(command=wrapped)
        except Exception as e:
            raise SubmitException(job_name, f"Compute Engine refused the instance: {e}") from e
        errors = (operation.get("error") or {}).get("errors")
        if errors:
            raise SubmitException(
                job_name,
                "Compute Engine refused the instance: "
                + "; ".join(f"{x.get('code')}: {x.get('message')}" for x in errors),
            )
        self.resources[name] = {
            "job_id": name,
            "status": JobStatus(JobState.PENDING),
            "cancelled": False,
            "operation": operation.get("name"),
        }
        logger.info("Inserted instance %s in %s (operation %s)", name, self.zone, operation.get("name"))
        return name

    def status(self, job_ids: list[Any]) -> list[JobStatus]:
        """One JobStatus per block, from ``instances.get``."""
        for jid in job_ids:
            record = self.resources.get(jid)
            if record is not None and not record["status"].terminal:
                record["status"] = self._poll(jid, record)
        return recorded_statuses(self.resources, job_ids)

    def _poll(self, name: str, record: dict[str, Any]) -> JobStatus:
        try:
            inst = (
                self.client.instances().get(project=self.project_id, zone=self.zone, instance=name).execute()
            )
        except Exception as e:
            if _http_status(e) == 404:
                if record["cancelled"]:
                    return JobStatus(JobState.CANCELLED, message="instance deleted by the provider")
                return JobStatus(JobState.MISSING, message=f"instance {name} no longer exists")
            logger.warning("Polling instance %s failed; keeping its last state", name, exc_info=True)
            return record["status"]
        state = GCE_STATES.get(inst.get("status", ""), JobState.UNKNOWN)
        if state == JobState.COMPLETED and record["cancelled"]:
            state = JobState.CANCELLED
        return JobStatus(state, message=inst.get("statusMessage"))

    def delete_instance(self, name: str) -> dict[str, Any]:
        return (
            self.client.instances().delete(project=self.project_id, zone=self.zone, instance=name).execute()
        )

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Delete the blocks' instances."""
        done = []
        for jid in job_ids:
            record = self.resources.get(jid)
            try:
                self.delete_instance(jid)
            except Exception as e:
                if _http_status(e) != 404:
                    logger.error("Deleting instance %s failed: %s", jid, e)
                    done.append(False)
                    continue
            if record is not None:
                record["cancelled"] = True
                record["status"] = JobStatus(JobState.CANCELLED, message="instance deleted by the provider")
            done.append(True)
        return done

    def bye(self) -> None:
        """Delete every instance still running (called at interpreter exit)."""
        live = [j for j, r in self.resources.items() if not r["status"].terminal]
        if live:
            self.cancel(live)


def _cancel_at_exit(ref: weakref.ref[GoogleCloudProvider]) -> None:
    provider = ref()
    if provider is not None:
        try:
            provider.bye()
        except Exception:
            logger.exception("Could not delete the Compute Engine instances at exit")
