"""AWSProvider against a real EC2 emulator: a moto server on loopback, started once per session.

boto3 reaches it through ``AWS_ENDPOINT_URL`` (which boto3 honours natively), exactly as a user
would point the provider at any EC2-compatible endpoint. Nothing here is mocked.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from parsl.errors import ConfigurationError
from parsl.jobs.states import JobState
from parsl.providers.errors import SubmitException

boto3 = pytest.importorskip("boto3", reason="AWSProvider tests need boto3 (parsl-providers[aws])")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """URL of a moto server on 127.0.0.1; fails under CI if moto is missing, else skips."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("moto[server] is not installed in the test environment (CI must have it)")
        pytest.skip("moto[server] is not installed: cannot start the EC2 emulator")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                msg = f"moto server did not start: {log.read_text()[-2000:]}"
                if os.environ.get("CI"):
                    pytest.fail(msg)
                pytest.skip(msg)
            time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def ec2(moto_endpoint, monkeypatch, tmp_path):
    """A clean emulator, AWS settings pointing at it, and a boto3 client to check what happened."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.chdir(tmp_path)
    return boto3.client("ec2", region_name="us-east-2", endpoint_url=moto_endpoint)


def make(tmp_path, **kw):
    from parsl_providers.aws import AWSProvider

    opts = dict(image_id="ami-12345678", key_name="parsl-key", state_file=str(tmp_path / "state.json"))
    opts.update(kw)
    return AWSProvider(**opts)


def our_vpcs(client):
    return [v["VpcId"] for v in client.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]


def instance(client, iid):
    return client.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def test_moto_network_created_and_recorded(ec2, tmp_path):
    p = make(tmp_path)
    state = json.loads((tmp_path / "state.json").read_text())
    assert our_vpcs(ec2) == [p.vpc_id] == [state["vpcID"]]
    assert state["sgID"] == p.sg_id and state["snIDs"] == p.sn_ids and state["instances"] == []
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = ec2.describe_subnets(SubnetIds=p.sn_ids)["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == sorted(zones)
    assert all(s["VpcId"] == p.vpc_id and s["MapPublicIpOnLaunch"] for s in subnets)
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[state["internetGatewayID"]])["InternetGateways"][
        0
    ]
    assert igw["Attachments"][0]["VpcId"] == p.vpc_id
    table = ec2.describe_route_tables(RouteTableIds=[state["routeTableID"]])["RouteTables"][0]
    assert {"0.0.0.0/0": state["internetGatewayID"]}.items() <= {
        r.get("DestinationCidrBlock"): r.get("GatewayId") for r in table["Routes"]
    }.items()
    assert sorted(a["SubnetId"] for a in table["Associations"] if not a.get("Main")) == sorted(p.sn_ids)
    sg = ec2.describe_security_groups(GroupIds=[p.sg_id])["SecurityGroups"][0]
    assert sg["VpcId"] == p.vpc_id
    ports = {
        (r["IpProtocol"], r.get("FromPort"), r.get("ToPort"), r["IpRanges"][0]["CidrIp"])
        for r in sg["IpPermissions"]
    }
    assert ("tcp", 22, 22, "0.0.0.0/0") in ports and ("tcp", 0, 65535, "10.0.0.0/16") in ports


def test_moto_restart_reuses_network_from_state_file(ec2, tmp_path):
    first = make(tmp_path)
    second = make(tmp_path)
    assert second.vpc_id == first.vpc_id and second.sg_id == first.sg_id and second.sn_ids == first.sn_ids
    assert our_vpcs(ec2) == [first.vpc_id]


def test_moto_state_file_naming_deleted_vpc_builds_a_new_network(ec2, tmp_path):
    first = make(tmp_path)
    first.teardown()
    (tmp_path / "state.json").write_text(
        json.dumps(
            {
                "vpcID": first.vpc_id or "vpc-0000dead",
                "sgID": "sg-0000dead",
                "snIDs": ["subnet-0000dead"],
                "instances": [],
            }
        )
    )
    second = make(tmp_path)
    assert second.vpc_id and our_vpcs(ec2) == [second.vpc_id]
    assert json.loads((tmp_path / "state.json").read_text())["vpcID"] == second.vpc_id


def test_moto_submit_status_cancel(ec2, tmp_path):
    p = make(tmp_path, worker_init="module load foo", walltime="00:10:00")
    jid = p.submit("process_worker_pool.py --block_id=0", 1, "parsl.aws")
    inst = instance(ec2, jid)
    assert inst["ImageId"] == "ami-12345678" and inst["InstanceType"] == "t2.small"
    assert inst["KeyName"] == "parsl-key" and inst["SubnetId"] in p.sn_ids
    assert [g["GroupId"] for g in inst["SecurityGroups"]] == [p.sg_id]
    assert {"Key": "Name", "Value": p.resources[jid]["job_name"]} in inst["Tags"]
    ud = ec2.describe_instance_attribute(InstanceId=jid, Attribute="userData")["UserData"]["Value"]
    script = base64.b64decode(ud).decode()
    assert "module load foo" in script and "process_worker_pool.py --block_id=0" in script
    assert "timeout --kill-after=60 600 bash" in script and "halt" in script
    assert json.loads((tmp_path / "state.json").read_text())["instances"] == [jid]

    [status] = p.status([jid])
    assert status.state in (JobState.PENDING, JobState.RUNNING)
    [status] = p.status([jid])
    assert status.state == JobState.RUNNING

    assert p.cancel([jid]) == [True]
    assert instance(ec2, jid)["State"]["Name"] in ("shutting-down", "terminated")
    assert p.status([jid])[0].state == JobState.CANCELLED
    assert json.loads((tmp_path / "state.json").read_text())["instances"] == []
    assert p.status(["i-0000000000000dead"])[0].state == JobState.MISSING


def test_moto_spot_bid_requests_spot_market(ec2, tmp_path):
    p = make(tmp_path, spot_max_bid=0.05, instance_type="t3.micro")
    jid = p.submit("true", 1)
    inst = instance(ec2, jid)
    assert inst.get("InstanceLifecycle") == "spot" and inst["InstanceType"] == "t3.micro"
    on_demand = make(tmp_path).submit("true", 1)
    assert instance(ec2, on_demand).get("InstanceLifecycle") != "spot"


def test_moto_block_of_several_nodes(ec2, tmp_path):
    p = make(tmp_path, nodes_per_block=3, max_blocks=2)
    jid = p.submit("true", 1)
    ids = p.resources[jid]["instances"]
    assert len(ids) == 3 and ids[0] == jid
    p.status([jid])
    assert p.status([jid])[0].state == JobState.RUNNING
    ec2.terminate_instances(InstanceIds=[ids[1]])  # one node ends: the block still runs
    assert p.status([jid])[0].state == JobState.RUNNING
    second = p.submit("true", 1)  # max_blocks=2 blocks of 3 nodes: a third block would exceed it
    with pytest.raises(SubmitException, match="exceed"):
        p.submit("true", 1)
    p.cancel([second])
    p.cancel([jid])
    states = {i["State"]["Name"] for iid in ids for i in [instance(ec2, iid)]}
    assert states <= {"shutting-down", "terminated"}


def test_moto_block_ended_outside_the_provider(ec2, tmp_path):
    p = make(tmp_path)
    stopped, terminated = p.submit("true", 1), p.submit("true", 1)
    ec2.stop_instances(InstanceIds=[stopped])
    ec2.terminate_instances(InstanceIds=[terminated])
    states = [s.state for s in p.status([stopped, terminated])]
    assert states == [JobState.COMPLETED, JobState.COMPLETED]


def test_moto_linger_keeps_instances(ec2, tmp_path):
    p = make(tmp_path, linger=True)
    jid = p.submit("true", 1)
    assert (
        "if ! true; then"
        in base64.b64decode(
            ec2.describe_instance_attribute(InstanceId=jid, Attribute="userData")["UserData"]["Value"]
        ).decode()
    )
    assert p.cancel([jid]) == [False]
    assert instance(ec2, jid)["State"]["Name"] in ("pending", "running")


def test_moto_unknown_instance_type_fails_submit(ec2, tmp_path):
    p = make(tmp_path, instance_type="x9.nonexistent")
    with pytest.raises(SubmitException, match=re.escape("x9.nonexistent")):
        p.submit("true", 1)


def test_moto_teardown_deletes_everything(ec2, tmp_path):
    p = make(tmp_path)
    jid = p.submit("true", 1)
    vpc, sg, subnets = p.vpc_id, p.sg_id, list(p.sn_ids)
    p.teardown()
    assert instance(ec2, jid)["State"]["Name"] == "terminated"
    assert our_vpcs(ec2) == [] and not (tmp_path / "state.json").exists()
    assert vpc not in [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    assert not [s for s in ec2.describe_subnets()["Subnets"] if s["SubnetId"] in subnets]
    assert not [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupId"] == sg]
    assert p.status([jid])[0].state == JobState.CANCELLED


def test_moto_key_file_credentials(ec2, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ConfigurationError, match="credentials"):
        make(tmp_path)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"AWSAccessKeyId": "AKIDEXAMPLE", "AWSSecretKey": "secret"}))
    p = make(tmp_path, key_file=str(keys))
    assert p.session.get_credentials().access_key == "AKIDEXAMPLE"
    assert our_vpcs(ec2) == [p.vpc_id]
    keys.write_text("{not json")
    with pytest.raises(ConfigurationError, match=re.escape("keys.json")):
        make(tmp_path, key_file=str(keys))


def test_moto_htex_scales_out_through_the_provider(ec2, tmp_path):
    """A real HTEX asks the provider for its initial block: the instance carries the pool command."""
    import parsl
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor

    p = make(tmp_path, init_blocks=1, max_blocks=1)
    htex = HighThroughputExecutor(label="ec2htex", provider=p, address="10.0.0.5", encrypted=False)
    dfk = parsl.load(Config(executors=[htex], run_dir=str(tmp_path / "runinfo"), strategy="none"))
    try:
        [jid] = [r["job_id"] for r in p.resources.values()]
        script = base64.b64decode(
            ec2.describe_instance_attribute(InstanceId=jid, Attribute="userData")["UserData"]["Value"]
        ).decode()
        assert (
            "process_worker_pool" in script and "-a 10.0.0.5" in script
        )  # the script, or -m where PATH lacks it
    finally:
        dfk.cleanup()
    assert instance(ec2, jid)["State"]["Name"] in ("shutting-down", "terminated")
