"""``AWSProvider``: blocks are EC2 instances (on demand or spot) in a VPC the provider creates.

The network (VPC, subnets, internet gateway, route table, security group) is created once and
its ids kept in a JSON state file, so the next run with the same ``state_file`` reuses it;
``teardown()`` terminates the instances, deletes the network and removes the file. boto3 finds
credentials in ``key_file``, the ``profile`` or the ``AWS_*`` environment variables, and honours
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_EC2`` (or the ``endpoint_url`` argument), which is
how the tests point it at a local EC2 emulator.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from typing import Any

from parsl.errors import ConfigurationError, OptionalModuleMissing
from parsl.jobs.states import JobState, JobStatus
from parsl.launchers import SingleNodeLauncher
from parsl.launchers.wrap import wrap_command
from parsl.providers.base import ExecutionProvider
from parsl.providers.errors import SubmitException
from parsl.utils import RepresentationMixin
from parsl_providers.aws.network import (
    NetworkState,
    create_network,
    delete_network,
    name_tags,
    network_exists,
)
from parsl_providers.aws.userdata import user_data, walltime_seconds
from parsl_providers.job_states import job_state_table, recorded_statuses

logger = logging.getLogger(__name__)

__all__ = ["EC2_STATES", "AWSProvider"]

#: EC2 instance state -> block state. Instances are started with shutdown behaviour
#: ``terminate``, so a stopped instance is one someone stopped by hand: the block is over.
EC2_STATES = job_state_table(
    PENDING="pending", RUNNING="running", COMPLETED="shutting-down terminated stopping stopped"
)

_ORDER = (JobState.FAILED, JobState.PENDING, JobState.RUNNING, JobState.CANCELLED, JobState.COMPLETED)


class AWSProvider(ExecutionProvider, RepresentationMixin):
    """Provide blocks as Amazon EC2 instances.

    Parameters keep Parsl's names and defaults: ``image_id`` (AMI) and ``key_name`` (EC2 key
    pair for SSH) are required; ``instance_type`` (``t2.small``), ``region`` (``us-east-2``),
    ``spot_max_bid`` (a price above 0 asks for spot instances at most that price),
    ``iam_instance_profile_arn``, ``worker_init`` (shell lines run before the workers),
    ``walltime`` (the workers are stopped after it), ``linger`` (True: the instance is not
    powered off when its workers exit, and ``cancel`` leaves it running), ``launcher``,
    ``nodes_per_block`` (instances per block), ``init_blocks``/``min_blocks``/``max_blocks``,
    ``parallelism``, ``key_file`` (JSON with ``AWSAccessKeyId``/``AWSSecretKey``, or boto3's
    ``aws_access_key_id``/``aws_secret_access_key``/``aws_session_token``), ``profile`` and
    ``state_file`` (default ``awsproviderstate.json``). ``endpoint_url`` is an addition: an
    EC2 endpoint other than AWS's (boto3's ``AWS_ENDPOINT_URL`` works too).
    """

    def __init__(
        self,
        image_id: str,
        key_name: str,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 10,
        nodes_per_block: int = 1,
        parallelism: float = 1,
        worker_init: str = "",
        instance_type: str = "t2.small",
        region: str = "us-east-2",
        spot_max_bid: float = 0,
        key_file: str | None = None,
        profile: str | None = None,
        iam_instance_profile_arn: str = "",
        state_file: str | None = None,
        walltime: str = "01:00:00",
        linger: bool = False,
        launcher: Any = None,
        *,
        endpoint_url: str | None = None,
    ):
        try:
            import boto3  # noqa: F401
        except ImportError as e:
            raise OptionalModuleMissing(
                ["boto3"], "AWSProvider needs boto3: pip install 'parsl-providers[aws]'"
            ) from e
        self.image_id = image_id
        self.key_name = key_name
        self.init_blocks = init_blocks
        self.min_blocks = min_blocks
        self.max_blocks = max_blocks
        self.nodes_per_block = nodes_per_block
        self.parallelism = parallelism
        self.worker_init = worker_init
        self.instance_type = instance_type
        self.region = region
        self.spot_max_bid = spot_max_bid
        self.key_file = key_file
        self.profile = profile
        self.iam_instance_profile_arn = iam_instance_profile_arn
        self.state_file = state_file if state_file is not None else "awsproviderstate.json"
        self.walltime = walltime
        walltime_seconds(walltime)  # a malformed walltime fails here, not at the first block
        self.linger = linger
        self.launcher = launcher if launcher is not None else SingleNodeLauncher()
        self.endpoint_url = endpoint_url
        self._label = "ec2"
        self.script_dir: str | None = None
        self.resources: dict[str, dict[str, Any]] = {}
        self.max_nodes = max_blocks * nodes_per_block

        env_keys = bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))
        if profile is None and key_file is None and not env_keys:
            raise ConfigurationError(
                "AWSProvider needs credentials: pass key_file=PATH (JSON with AWSAccessKeyId and "
                "AWSSecretKey) or profile=NAME, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )
        self.initialize_boto_client()
        self.state = self._load_or_create_network()

    # ------------------------------------------------------------ sessions
    def create_session(self) -> Any:
        """A boto3 session from ``key_file``, else ``profile``, else the environment."""
        import boto3

        if self.key_file is not None:
            path = os.path.expandvars(os.path.expanduser(self.key_file))
            try:
                with open(path) as f:
                    creds = json.load(f)
            except (OSError, json.JSONDecodeError) as e:
                raise ConfigurationError(
                    f"AWSProvider: cannot read the credentials file {path!r}: {e}"
                ) from e
            keys = {
                "aws_access_key_id": creds.get("aws_access_key_id", creds.get("AWSAccessKeyId")),
                "aws_secret_access_key": creds.get("aws_secret_access_key", creds.get("AWSSecretKey")),
                "aws_session_token": creds.get("aws_session_token", creds.get("AWSSessionToken")),
            }
            if not keys["aws_access_key_id"] or not keys["aws_secret_access_key"]:
                raise ConfigurationError(
                    f"AWSProvider: the credentials file {path!r} needs AWSAccessKeyId and AWSSecretKey"
                )
            return boto3.session.Session(
                region_name=self.region, **{k: v for k, v in keys.items() if v is not None}
            )
        if self.profile is not None:
            return boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return boto3.session.Session(region_name=self.region)

    def initialize_boto_client(self) -> None:
        """Create ``self.session`` and the EC2 ``self.client``."""
        self.session = self.create_session()
        self.client = self.session.client("ec2", endpoint_url=self.endpoint_url)

    # ------------------------------------------------------- state and network
    def _load_or_create_network(self) -> NetworkState:
        try:
            state = NetworkState.load(self.state_file)
        except FileNotFoundError:
            logger.info("No AWS state file %s: creating a new network", self.state_file)
        except (ValueError, OSError) as e:
            logger.warning(
                "Ignoring unreadable AWS state file %s (%s): creating a new network", self.state_file, e
            )
        else:
            if network_exists(self.client, state):
                logger.info("Reusing VPC %s from %s", state.vpc_id, self.state_file)
                return state
            logger.warning(
                "The VPC %s recorded in %s is gone: creating a new network", state.vpc_id, self.state_file
            )
        state = create_network(self.client, self.generate_aws_id())
        self.state = state
        self.write_state_file()
        return state

    def read_state_file(self, state_file: str) -> None:
        """Load the resource ids saved by an earlier run."""
        self.state = NetworkState.load(state_file)

    def write_state_file(self) -> None:
        """Save the resource ids, so that the next run reuses the network."""
        self.state.save(self.state_file)

    @property
    def vpc_id(self) -> str | None:
        return self.state.vpc_id

    @property
    def sg_id(self) -> str | None:
        return self.state.sg_id

    @property
    def sn_ids(self) -> list[str]:
        return self.state.sn_ids

    @property
    def instances(self) -> list[str]:
        return self.state.instances

    @staticmethod
    def generate_aws_id() -> str:
        """A unique name for new resources: ``parsl.aws.<time>``."""
        return f"parsl.aws.{time.time()}"

    # ------------------------------------------------------------------ blocks
    def _subnet_for(self, instance_type: str) -> str:
        """A subnet of ours in a zone that offers ``instance_type``."""
        offered = self.client.describe_instance_type_offerings(
            LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": [instance_type]}]
        )
        zones = {o["Location"] for o in offered.get("InstanceTypeOfferings", [])}
        for sn in self.client.describe_subnets(SubnetIds=list(self.state.sn_ids))["Subnets"]:
            if sn["AvailabilityZone"] in zones:
                return sn["SubnetId"]
        raise SubmitException(
            "parsl.aws",
            f"no availability zone of region {self.region} offers instance "
            f"type {instance_type!r}; choose another instance_type or region",
        )

    def spin_up_instance(self, command: str, job_name: str, count: int = 1) -> list[dict[str, Any]]:
        """Start ``count`` instances running ``command``; return boto3's instance descriptions."""
        from botocore.exceptions import BotoCoreError, ClientError

        if len(self.state.instances) + count > self.max_nodes:
            raise SubmitException(
                job_name,
                f"starting {count} more instance(s) would exceed max_blocks * "
                f"nodes_per_block = {self.max_nodes} instances",
            )
        request: dict[str, Any] = dict(
            MinCount=count,
            MaxCount=count,
            ImageId=self.image_id,
            InstanceType=self.instance_type,
            SubnetId=self._subnet_for(self.instance_type),
            SecurityGroupIds=[self.state.sg_id],
            TagSpecifications=name_tags("instance", job_name),
            InstanceInitiatedShutdownBehavior="terminate",
            UserData=user_data(command, job_name, self.worker_init, self.walltime, self.linger),
        )
        if self.key_name:
            request["KeyName"] = self.key_name
        if self.iam_instance_profile_arn:
            request["IamInstanceProfile"] = {"Arn": self.iam_instance_profile_arn}
        if float(self.spot_max_bid or 0) > 0:
            request["InstanceMarketOptions"] = {
                "MarketType": "spot",
                "SpotOptions": {
                    "MaxPrice": str(self.spot_max_bid),
                    "SpotInstanceType": "one-time",
                    "InstanceInterruptionBehavior": "terminate",
                },
            }
        try:
            reply = self.client.run_instances(**request)
        except (ClientError, BotoCoreError) as e:
            raise SubmitException(
                job_name, f"EC2 refused to start {count} {self.instance_type} instance(s): {e}"
            ) from e
        started = reply["Instances"]
        self.state.instances.extend(i["InstanceId"] for i in started)
        for i in started:
            self.state.instance_states[i["InstanceId"]] = i["State"]["Name"]
        self.write_state_file()
        logger.info(
            "Started %d %s instance(s) for block %s: %s",
            len(started),
            self.instance_type,
            job_name,
            [i["InstanceId"] for i in started],
        )
        return started

    def submit(self, command: str = "sleep 1", tasks_per_node: int = 1, job_name: str = "parsl.aws") -> str:
        """Start one block (``nodes_per_block`` instances) running ``command``; its job id is the
        id of its first instance."""
        name = f"{job_name}.{time.time()}"
        wrapped = wrap_command(self.launcher, command, tasks_per_node, self.nodes_per_block, self.script_dir)
        started = self.spin_up_instance(wrapped, name, count=self.nodes_per_block)
        ids = [i["InstanceId"] for i in started]
        states = [EC2_STATES.get(i["State"]["Name"], JobState.UNKNOWN) for i in started]
        self.resources[ids[0]] = {
            "job_id": ids[0],
            "instances": ids,
            "job_name": name,
            "status": JobStatus(_combine(states)),
            "cancelled": False,
        }
        return ids[0]

    def _describe(self, instance_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Instance id -> description, for those of ``instance_ids`` that EC2 still knows."""
        found: dict[str, dict[str, Any]] = {}
        if not instance_ids:
            return found
        pages = self.client.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-id", "Values": list(instance_ids)}]
        )
        for page in pages:
            for reservation in page["Reservations"]:
                for inst in reservation["Instances"]:
                    found[inst["InstanceId"]] = inst
        return found

    def get_instance_state(self, instances: list[str] | None = None) -> dict[str, str]:
        """EC2 state name of each instance this provider started (or of ``instances``)."""
        ids = list(self.state.instances if instances is None else instances)
        for iid, inst in self._describe(ids).items():
            self.state.instance_states[iid] = inst["State"]["Name"]
        return {iid: self.state.instance_states.get(iid, "unknown") for iid in ids}

    def status(self, job_ids: list[Any]) -> list[JobStatus]:
        """One JobStatus per block, from its instances' EC2 states."""
        live = [
            jid for jid in job_ids if jid in self.resources and not self.resources[jid]["status"].terminal
        ]
        described = self._describe([iid for jid in live for iid in self.resources[jid]["instances"]])
        for jid in live:
            record = self.resources[jid]
            insts = [described.get(iid) for iid in record["instances"]]
            record["status"] = self._block_status(insts, record["cancelled"])
            for inst in insts:
                if inst is not None:
                    self.state.instance_states[inst["InstanceId"]] = inst["State"]["Name"]
        return recorded_statuses(self.resources, job_ids)

    @staticmethod
    def _block_status(insts: list[dict[str, Any] | None], cancelled: bool) -> JobStatus:
        if all(i is None for i in insts):
            if cancelled:
                return JobStatus(JobState.CANCELLED, message="terminated by the provider")
            return JobStatus(JobState.MISSING, message="EC2 no longer knows the block's instances")
        states, messages = [], []
        for inst in insts:
            if inst is None:
                states.append(JobState.COMPLETED)
                continue
            state = EC2_STATES.get(inst["State"]["Name"], JobState.UNKNOWN)
            reason = inst.get("StateReason") or {}
            if state == JobState.COMPLETED and str(reason.get("Code", "")).startswith("Server."):
                state = JobState.FAILED  # AWS took the instance away: spot interruption, capacity, ...
                messages.append(f"{inst['InstanceId']}: {reason.get('Message') or reason['Code']}")
            elif state == JobState.COMPLETED and cancelled:
                state = JobState.CANCELLED
            states.append(state)
        combined = _combine(states)
        return JobStatus(combined, message="; ".join(messages) or None)

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Terminate the blocks' instances. With ``linger=True`` nothing is terminated (Parsl's
        behaviour) and every entry is False."""
        if self.linger:
            logger.debug("linger=True: leaving instances of %s running", job_ids)
            return [False for _ in job_ids]
        known = [jid for jid in job_ids if jid in self.resources]
        ids = [iid for jid in known for iid in self.resources[jid]["instances"]]
        if ids:
            self.shut_down_instance(ids)
        for jid in known:
            record = self.resources[jid]
            record["cancelled"] = True
            record["status"] = JobStatus(JobState.CANCELLED, message="terminated by the provider")
        return [jid in self.resources for jid in job_ids]

    def shut_down_instance(self, instances: list[str]) -> None:
        """Terminate ``instances`` and forget them in the state file."""
        from botocore.exceptions import ClientError

        try:
            self.client.terminate_instances(InstanceIds=list(instances))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "InvalidInstanceID.NotFound":
                raise
            for iid in instances:  # some are gone already: terminate the others one by one
                try:
                    self.client.terminate_instances(InstanceIds=[iid])
                except ClientError as e1:
                    if e1.response.get("Error", {}).get("Code") != "InvalidInstanceID.NotFound":
                        raise
        gone = set(instances)
        self.state.instances[:] = [i for i in self.state.instances if i not in gone]
        for iid in gone:
            self.state.instance_states.pop(iid, None)
        self.write_state_file()
        logger.info("Terminated instances %s", sorted(gone))

    # ---------------------------------------------------------------- teardown
    def teardown(self, timeout: float = 600) -> None:
        """Terminate every instance, delete the network and remove the state file."""
        instances = list(self.state.instances)
        if instances:
            self.shut_down_instance(instances)
            deadline = time.monotonic() + timeout
            while True:  # subnets and the security group cannot go while instances use them
                left = [
                    iid
                    for iid, inst in self._describe(instances).items()
                    if inst["State"]["Name"] != "terminated"
                ]
                if not left or time.monotonic() > deadline:
                    break
                time.sleep(min(5.0, max(0.1, deadline - time.monotonic())))
        delete_network(self.client, self.state)
        for record in self.resources.values():
            if not record["status"].terminal:
                record["cancelled"] = True
                record["status"] = JobStatus(JobState.CANCELLED, message="terminated by teardown()")
        with contextlib.suppress(FileNotFoundError):  # already gone is what teardown wants
            os.remove(self.state_file)

    def goodbye(self) -> None:
        self.teardown()

    def show_summary(self) -> str:
        """A readable summary of the network and instances, also logged at INFO."""
        states = self.get_instance_state()
        lines = [
            (
                f"EC2 summary: VPC {self.state.vpc_id}, subnets {self.state.sn_ids}, "
                f"security group {self.state.sg_id}, instances {self.state.instances}"
            )
        ]
        lines += [f"  {iid}: {state}" for iid, state in states.items()]
        text = "\n".join(lines)
        logger.info("%s", text)
        return text

    @property
    def label(self) -> str:
        return self._label

    @property
    def status_polling_interval(self) -> int:
        return 60


def _combine(states: list[JobState]) -> JobState:
    """One state for a block of several instances: the first of FAILED, PENDING, RUNNING,
    CANCELLED, COMPLETED that any instance is in."""
    for candidate in _ORDER:
        if candidate in states:
            return candidate
    return JobState.UNKNOWN
