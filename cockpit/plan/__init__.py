"""The plan file format v1: models, loading with located errors, and the JSON Schema."""

from __future__ import annotations

from cockpit.plan.issues import Mark, PlanError, PlanIssue
from cockpit.plan.loader import PlanFile, PlanFileError, load_plan, parse_plan
from cockpit.plan.models import DnsSettings, Host, Nameserver, Phase, Plan, Secret
from cockpit.plan.steps import (
    OLD_TTL,
    ConfirmStep,
    CountdownStep,
    DnsUpdateStep,
    HostPath,
    PortStep,
    SshStep,
    Step,
    StepBase,
    TransferStep,
    WaitDnsStep,
)
from cockpit.plan.values import HostPort, MxRecord

__all__ = [
    "OLD_TTL",
    "ConfirmStep",
    "CountdownStep",
    "DnsSettings",
    "DnsUpdateStep",
    "Host",
    "HostPath",
    "HostPort",
    "Mark",
    "MxRecord",
    "Nameserver",
    "Phase",
    "Plan",
    "PlanError",
    "PlanFile",
    "PlanFileError",
    "PlanIssue",
    "PortStep",
    "Secret",
    "SshStep",
    "Step",
    "StepBase",
    "TransferStep",
    "WaitDnsStep",
    "load_plan",
    "parse_plan",
]
