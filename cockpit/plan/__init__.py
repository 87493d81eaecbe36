"""The plan file format v1: models, loading with located errors, and the JSON Schema."""

from __future__ import annotations

from cockpit.plan.issues import Mark, PlanError, PlanIssue
from cockpit.plan.loader import PlanFile, PlanFileError, load_plan, parse_plan
from cockpit.plan.mail_steps import CanaryStep, DrainStep, InventoryStep, SyncStep, VerifyStep
from cockpit.plan.models import DnsSettings, Host, Nameserver, Phase, Plan, Secret, Store
from cockpit.plan.step_base import StepBase
from cockpit.plan.steps import (
    FORMER_TTL,
    OLD_TTL,
    ConfirmStep,
    CountdownStep,
    DnsUpdateStep,
    HostPath,
    PortStep,
    SshStep,
    Step,
    TransferStep,
    WaitDnsStep,
)
from cockpit.plan.values import HostPort, MxRecord

__all__ = [
    "FORMER_TTL",
    "OLD_TTL",
    "CanaryStep",
    "ConfirmStep",
    "CountdownStep",
    "DnsSettings",
    "DnsUpdateStep",
    "DrainStep",
    "Host",
    "HostPath",
    "HostPort",
    "InventoryStep",
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
    "Store",
    "SyncStep",
    "TransferStep",
    "VerifyStep",
    "WaitDnsStep",
    "load_plan",
    "parse_plan",
]
