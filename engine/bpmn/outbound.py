"""Calls from diagrams to outside systems: queued in the step, sent by a job, answered by a message.

A BPMN service task (`spiffworkflow:serviceTaskOperator name="disdukcapil.serahkan"`) does not
call anything while the engine steps (that would hold the case's transaction open on a network
call and repeat it on every retry). It records the call and gets a ticket at once; the step
stores the call as an `outbound` job in the same transaction; a worker hands the job to the
adapter registered for the operation, with retries; the partner answers later by sending the
case a message (`deliver_message`), which a receive task or message catch event waits for.
Adapters are replaceable: anything with `send(call)`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class OutboundCall:
    """One call a diagram made: the operation, its parameters, and the ticket handed back."""

    operation: str
    params: dict[str, Any]
    ticket: str
    case_id: int | None = None
    tracking_number: str | None = None


class Adapter(Protocol):
    """Sends calls of one operation to an outside system."""

    def send(self, call: OutboundCall) -> None:
        """Deliver the call; raise to have the job retried later."""


@runtime_checkable
class InProcessAdapter(Protocol):
    """Handles calls of one operation inside the platform's own transaction (e.g. opening a bill at the bank)."""

    def send_in(self, session: Any, rt: Any, call: OutboundCall) -> None:
        """Handle the call with the job's session; raise to have the job retried later."""


class UnknownOperation(Exception):
    """No adapter is registered for a service task's operation."""


@dataclass
class FileDropAdapter:
    """Write each call as a JSON file into a folder another system collects (an SFTP-style drop)."""

    folder: Path

    def send(self, call: OutboundCall) -> None:
        """Write the call to `<folder>/<ticket>.json` (atomically)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{call.ticket}.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps({"operation": call.operation, "ticket": call.ticket, "case_id": call.case_id,
                                         "tracking_number": call.tracking_number, "params": call.params},
                                        ensure_ascii=False, indent=2, default=str))
        temporary.replace(target)


def queue(into: list[OutboundCall], operation: str, params: dict[str, Any]) -> str:
    """Record a call made by a running step in its workflow's list; return the JSON the service task stores."""
    ticket = str(uuid.uuid4())
    into.append(OutboundCall(operation, params, ticket))
    return json.dumps({"ticket": ticket, "status": "queued"})


def calls_of(workflow: Any) -> list[OutboundCall]:
    """Return the list of calls a case's workflow made in its current step (kept on the workflow itself).

    The list lives on the top workflow object, which one step of one case uses at a time; no
    process-wide or thread-local state is needed.
    """
    top = getattr(workflow, "top_workflow", None) or workflow
    calls: list[OutboundCall] = top.__dict__.setdefault("outbound_calls", [])
    return calls


@dataclass
class Registry:
    """Adapters by operation name."""

    adapters: dict[str, Adapter | InProcessAdapter] = field(default_factory=dict)

    def has(self, operation: str) -> bool:
        """Tell whether a Python adapter is registered for an operation (else the package may describe it)."""
        return operation in self.adapters

    def send(self, call: OutboundCall, *, session: Any = None, rt: Any = None) -> None:
        """Hand a call to its adapter (an in-process adapter also gets the job's session and runtime)."""
        adapter = self.adapters.get(call.operation)
        if adapter is None:
            raise UnknownOperation(f"no adapter is registered for operation '{call.operation}'")
        if isinstance(adapter, InProcessAdapter):
            adapter.send_in(session, rt, call)
        else:
            adapter.send(call)
