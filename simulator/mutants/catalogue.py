"""The mutant catalogue: named, deliberate violations of the contract, each tied to the rule it
breaks. `python -m mediagrid.simulator.mutants NAME` runs one (from its own folder, beside its
module.yaml); `python -m mediagrid.simulator.mutants.catalogue --write` rewrites the folders.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mediagrid.simulator.mutants import patches_entities as pe
from mediagrid.simulator.mutants import patches_events as pv
from mediagrid.simulator.mutants import patches_module as pm

FOLDER = Path(__file__).parent / "modules"
WELL_BEHAVED = "well-behaved"


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str  # the rule it breaks: the suite must fail it on this rule
    summary: str
    patch: Callable[[], None] | None = None
    flag: str = ""  # a behaviour of base.py to switch on
    subtle: str = ""  # when it only shows: "after the 100th call", "under concurrency"...
    manifest: str = ""  # module.yaml text replacing the template (C-1)

    @property
    def folder(self) -> Path:
        return FOLDER / self.name


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    M("ignores-bind-host", "H-1", "binds 127.0.0.1 whatever MEDIAGRID_BIND_HOST says",
      pm.ignores_bind_host),
    M("port-in-use-exits-1", "H-2", "exits 1, not 98, when GRPC_PORT is taken",
      pm.port_in_use_exits_1),
    M("bad-port-uses-default", "H-3", "serves on a port of its own when GRPC_PORT is bad",
      pm.bad_port_uses_default),
    M("no-reflection", "H-4", "serves no gRPC reflection", pm.no_reflection),
    M("health-blocked-while-busy", "H-5", "HealthCheck waits for entity work",
      pm.health_blocked_while_busy, subtle="only while entity calls are in flight"),
    M("instance-id-reused", "H-6", "the same instance_id on every start", pm.instance_id_reused),
    M("health-v1-always-serving", "H-7", "grpc.health.v1 says SERVING even while STOPPING",
      pm.health_v1_always_serving),
    M("shutdown-ignored", "H-8", "answers Shutdown and SIGTERM but never stops",
      pm.shutdown_ignored),
    M("starting-after-ready", "H-9", "goes back from READY to STARTING on Shutdown",
      pm.starting_after_ready),
    M("serves-while-stopping", "H-10", "takes entity calls while STOPPING",
      pm.serves_while_stopping),
    M("serves-while-starting", "H-10", "takes entity calls while STARTING (a slow start)",
      pm.serves_while_starting, subtle="only in the first 1.5 s of the process"),
    M("undeclared-entity-type", "H-12", "HealthCheck offers a type module.yaml lacks",
      pm.undeclared_entity_type),
    M("media-type-flips", "N-1", "ConfigureEntity changes the entity's media type",
      pe.media_type_flips),
    M("request-id-ignored", "N-2", "a repeated request_id creates another entity",
      pe.request_id_ignored),
    M("bad-config-wrong-code", "N-3", "FAILED_PRECONDITION, not INVALID_ARGUMENT, for bad config",
      pe.bad_config_wrong_code),
    M("second-type-config-unchecked", "N-3", "accepts any config for its second entity type",
      pe.second_type_config_unchecked, subtle="only for the second entity type"),
    M("media-mismatch-invalid-argument", "N-4", "INVALID_ARGUMENT for a media type the type "
      "cannot carry", pe.media_mismatch_invalid_argument),
    M("ok-for-unknown-id", "N-5", "GetEntityStatus of an unknown id is OK", pe.ok_for_unknown_id),
    M("ok-for-unknown-after-100-calls", "N-5", "GetEntityStatus of an unknown id is OK after "
      "the 100th call", pe.ok_for_unknown_after_100_calls, subtle="only after the 100th call"),
    M("destroy-not-idempotent", "N-6", "a second DestroyEntity is NOT_FOUND",
      pe.destroy_not_idempotent),
    M("failed-configure-changes-config", "N-7", "a refused ConfigureEntity still changes the "
      "config", pe.failed_configure_changes_config),
    M("page-token-from-nowhere", "N-8", "accepts a page token it never issued",
      pe.page_token_from_nowhere),
    M("requested-id-ignored", "N-9", "ignores the requested entity_id", pe.requested_id_ignored),
    M("concurrent-create-duplicates", "N-9", "two concurrent creates of one entity_id both "
      "succeed", pe.concurrent_create_duplicates, subtle="only under concurrency"),
    M("no-limits", "N-10", "no limit on names and config maps", pe.no_limits),
    M("secrets-shown", "N-11", "reads back passwords and tokens in clear", pv.secrets_shown),
    M("destroyed-still-listed", "N-12", "ListEntities shows destroyed entities",
      pe.destroyed_still_listed),
    M("connect-unknown-invalid-argument", "P-1", "INVALID_ARGUMENT, not NOT_FOUND, for an "
      "unknown entity", pe.connect_unknown_invalid_argument),
    M("connect-media-unchecked", "P-2", "connects entities of another media type",
      pe.connect_media_unchecked),
    M("sink-as-source", "P-3", "lets a sink be a connection's source", pe.sink_as_source),
    M("endpoint-without-options", "P-4", "returns a TARGET endpoint not in the form of §4.1",
      pe.endpoint_without_options),
    M("one-target-per-source", "P-5", "a source feeds only its first target",
      flag="one-target-per-source"),
    M("connect-not-idempotent", "P-6", "a repeated ConnectEntities is ALREADY_EXISTS",
      pe.connect_not_idempotent),
    M("disconnect-not-idempotent", "P-7", "a second DisconnectEntities is NOT_FOUND",
      pe.disconnect_not_idempotent),
    M("stopped-flow-restartable", "P-8", "starts a stopped flow id again",
      pe.stopped_flow_restartable),
    M("metrics-from-config", "P-10", "reports configured fps and bitrate, not measured ones",
      flag="metrics-from-config"),
    M("active-without-media", "P-11", "a flow is ACTIVE before any media arrives",
      flag="active-without-media"),
    M("disconnect-keeps-flow", "P-14", "a flow whose connection is removed stays ACTIVE",
      pe.disconnect_keeps_flow),
    M("header-instance-mismatch", "E-1", "reports carry another instance_id than HealthCheck",
      pv.header_instance_mismatch),
    M("sequence-gap", "E-2", "skips sequence number 5", pv.sequence_gap),
    M("sequence-repeat", "E-2", "gives two reports sequence 5", pv.sequence_repeat),
    M("gap-after-100-reports", "E-2", "skips a sequence number after the 101st report",
      pv.gap_after_100_reports, subtle="only after the 100th report"),
    M("retry-new-sequence", "E-3", "renumbers a report before retrying it",
      pv.retry_new_sequence),
    M("no-buffer-while-down", "E-5", "loses reports while the orchestrator is unreachable",
      pv.no_buffer_while_down),
    M("created-late", "E-6", "reports about an entity before its ENTITY_CREATED",
      pv.created_late),
    M("created-missing", "E-6", "never sends ENTITY_CREATED", pv.created_missing),
    M("events-after-destroyed", "E-7", "reports about an entity after its ENTITY_DESTROYED",
      pv.events_after_destroyed),
    M("flow-started-early", "E-8", "FLOW_STARTED without its CONNECTION_CREATED",
      pv.flow_started_early),
    M("timestamps-backwards", "E-9", "some report timestamps go 2 s back",
      pv.timestamps_backwards),
    M("batches-wait", "E-10", "holds each report 1.5 s before sending", pv.batches_wait),
    M("invalid-manifest", "C-1", "ships a module.yaml with an unknown key",
      manifest="id: mutant-invalid-manifest\ncommand: [\"{python}\", \"-m\", "
      "\"mediagrid.simulator.mutants\", \"invalid-manifest\"]\nsupervision:\n  "
      "startup_timout: 5s\n"),
    M("schema-not-json", "C-3", "GetConfigSchema is not a JSON Schema", pv.schema_not_json),
    M("invalid-config-applied", "C-4", "applies a config that fails the schema",
      pv.invalid_config_applied),
    M("revision-unchecked", "C-5", "ignores expected_revision", pv.revision_unchecked),
    M("binds-all-interfaces", "S-1", "binds 0.0.0.0 by default", pm.binds_all_interfaces),
    M("token-not-checked", "S-2", "takes calls without the token", pm.token_not_checked),
    M("reports-without-token", "S-3", "reports without its token", pm.reports_without_token),
    M("no-message-limit", "S-5", "takes messages of 64 MiB", pm.no_message_limit),
)
BY_NAME = {m.name: m for m in MUTANTS}

TEMPLATE = Path(__file__).with_name("template.yaml")


def manifest_text(mutant: Mutant) -> str:
    if mutant.manifest:
        return f"# Mutant {mutant.name} ({mutant.rule}): {mutant.summary}.\n{mutant.manifest}"
    head = (f"# Mutant {mutant.name} ({mutant.rule}): {mutant.summary}."
            + (f" Subtle: {mutant.subtle}." if mutant.subtle else "")
            + "\n# Written by `python -m mediagrid.simulator.mutants.catalogue --write`.\n")
    return head + TEMPLATE.read_text().replace("NAME", mutant.name).replace(
        "SUMMARY", f"{mutant.summary} (breaks {mutant.rule})")


def write() -> None:
    for mutant in (*MUTANTS, Mutant(WELL_BEHAVED, "", "the base every mutant changes")):
        mutant.folder.mkdir(parents=True, exist_ok=True)
        (mutant.folder / "module.yaml").write_text(manifest_text(mutant))


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m mediagrid.simulator.mutants.catalogue --write")
    write()
