"""The EC2 network a block's instances live in: VPC, subnets, internet gateway, route table and
security group. ``NetworkState`` holds their ids and is what the provider's state file stores."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["NetworkState", "create_network", "delete_network", "name_tags", "network_exists"]

#: address block of the VPC; subnets get a /20 of it each (about 4000 instances per zone)
VPC_CIDR = "10.0.0.0/16"


@dataclass
class NetworkState:
    """Ids of the resources the provider created, and the instances it started in them."""

    vpc_id: str | None = None
    sg_id: str | None = None
    sn_ids: list[str] = field(default_factory=list)
    internet_gateway: str | None = None
    route_table: str | None = None
    instances: list[str] = field(default_factory=list)
    instance_states: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The state file's content; the first keys are the ones Parsl's state files have."""
        d = asdict(self)
        return {
            "vpcID": d["vpc_id"],
            "sgID": d["sg_id"],
            "snIDs": d["sn_ids"],
            "instances": d["instances"],
            "instanceState": d["instance_states"],
            "internetGatewayID": d["internet_gateway"],
            "routeTableID": d["route_table"],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetworkState:
        """Read a state file written by this provider or by Parsl's (which lacks gateway and routes)."""
        for key in ("vpcID", "sgID", "snIDs"):
            if key not in data:
                raise ValueError(f"state file has no {key!r} entry")
        return cls(
            vpc_id=data["vpcID"],
            sg_id=data["sgID"],
            sn_ids=list(data["snIDs"] or []),
            internet_gateway=data.get("internetGatewayID"),
            route_table=data.get("routeTableID"),
            instances=list(data.get("instances") or []),
            instance_states=dict(data.get("instanceState") or {}),
        )

    @classmethod
    def load(cls, path: str) -> NetworkState:
        with open(path) as f:
            return cls.from_json(json.load(f))

    def save(self, path: str) -> None:
        """Write the state file atomically: a crash leaves the old file or the new one."""
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".awsstate-", dir=directory)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(self.to_json(), f, indent=4)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def name_tags(resource_type: str, name: str) -> list[dict[str, Any]]:
    """A ``TagSpecifications`` value giving the new resource a ``Name`` tag."""
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def _everywhere(protocols: list[str], cidr: str) -> list[dict[str, Any]]:
    return [
        {"IpProtocol": p, "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": cidr}]} for p in protocols
    ]


def create_network(client: Any, name: str) -> NetworkState:
    """Create a VPC with an internet gateway, a public subnet per available zone and a security
    group open within the VPC (plus ICMP and SSH from anywhere); return their ids.

    Everything created so far is deleted again if a step fails.
    """
    state = NetworkState()
    try:
        state.vpc_id = client.create_vpc(
            CidrBlock=VPC_CIDR, AmazonProvidedIpv6CidrBlock=False, TagSpecifications=name_tags("vpc", name)
        )["Vpc"]["VpcId"]
        igw = client.create_internet_gateway(TagSpecifications=name_tags("internet-gateway", name))
        state.internet_gateway = igw["InternetGateway"]["InternetGatewayId"]
        client.attach_internet_gateway(InternetGatewayId=state.internet_gateway, VpcId=state.vpc_id)
        state.route_table = client.create_route_table(
            VpcId=state.vpc_id, TagSpecifications=name_tags("route-table", name)
        )["RouteTable"]["RouteTableId"]
        client.create_route(
            RouteTableId=state.route_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=state.internet_gateway
        )
        zones = client.describe_availability_zones()["AvailabilityZones"]
        for num, zone in enumerate(zones):
            if zone.get("State") != "available":
                logger.info(
                    "Availability zone %s is %s: no subnet there", zone["ZoneName"], zone.get("State")
                )
                continue
            subnet = client.create_subnet(
                VpcId=state.vpc_id,
                CidrBlock=f"10.0.{16 * num}.0/20",
                AvailabilityZone=zone["ZoneName"],
                TagSpecifications=name_tags("subnet", f"{name}.{zone['ZoneName']}"),
            )
            sn_id = subnet["Subnet"]["SubnetId"]
            state.sn_ids.append(sn_id)
            client.modify_subnet_attribute(SubnetId=sn_id, MapPublicIpOnLaunch={"Value": True})
            client.associate_route_table(RouteTableId=state.route_table, SubnetId=sn_id)
        if not state.sn_ids:
            raise RuntimeError("no availability zone of the region is available for a subnet")
        state.sg_id = client.create_security_group(
            GroupName="private-subnet",
            Description="security group for remote executors",
            VpcId=state.vpc_id,
            TagSpecifications=name_tags("security-group", name),
        )["GroupId"]
        client.authorize_security_group_ingress(
            GroupId=state.sg_id,
            IpPermissions=[
                *_everywhere(["tcp", "udp"], VPC_CIDR),
                {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            ],
        )
    except BaseException:
        logger.error("Creating the EC2 network %s failed; deleting what was created", name)
        try:
            delete_network(client, state)
        except Exception:
            logger.exception("Could not delete the partly created network %s", state)
        raise
    return state


def network_exists(client: Any, state: NetworkState) -> bool:
    """Whether the VPC and security group recorded in ``state`` still exist."""
    from botocore.exceptions import ClientError

    if not state.vpc_id or not state.sg_id or not state.sn_ids:
        return False
    try:
        client.describe_vpcs(VpcIds=[state.vpc_id])
        client.describe_security_groups(GroupIds=[state.sg_id])
        client.describe_subnets(SubnetIds=list(state.sn_ids))
    except ClientError as e:
        if e.response.get("Error", {}).get("Code", "").endswith(".NotFound"):
            return False
        raise
    return True


def delete_network(client: Any, state: NetworkState) -> None:
    """Delete what ``create_network`` made, in dependency order; ids are cleared as they go."""
    if state.sg_id:
        client.delete_security_group(GroupId=state.sg_id)
        state.sg_id = None
    if state.route_table:
        table = client.describe_route_tables(RouteTableIds=[state.route_table])["RouteTables"]
        for assoc in table[0].get("Associations", []) if table else []:
            if not assoc.get("Main"):
                client.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])
    for sn_id in list(state.sn_ids):
        client.delete_subnet(SubnetId=sn_id)
        state.sn_ids.remove(sn_id)
    if state.route_table:
        client.delete_route_table(RouteTableId=state.route_table)
        state.route_table = None
    if state.internet_gateway:
        if state.vpc_id:
            client.detach_internet_gateway(InternetGatewayId=state.internet_gateway, VpcId=state.vpc_id)
        client.delete_internet_gateway(InternetGatewayId=state.internet_gateway)
        state.internet_gateway = None
    if state.vpc_id:
        client.delete_vpc(VpcId=state.vpc_id)
        state.vpc_id = None
