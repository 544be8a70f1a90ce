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
from mediagrid.simulator.mutants import patches_more as px

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
    edit: tuple[tuple[str, str], ...] = ()  # (old, new) replacements in the template

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
    M("shutdown-refused-while-stopping", "H-22", "a Shutdown while STOPPING (a 1 s teardown) "
      "is UNAVAILABLE",
      px.shutdown_refused_while_stopping),
    M("module-id-from-manifest", "H-23", "ignores MEDIAGRID_MODULE_ID (never exits 2 for it)",
      px.module_id_from_manifest),
    M("bad-orchestrator-address-ignored", "H-24", "runs standalone on a malformed "
      "MEDIAGRID_ORCHESTRATOR_ADDRESS", px.bad_orchestrator_address_ignored),
    M("health-unspecified", "H-25", "leaves ModuleStatus.health UNSPECIFIED",
      px.health_unspecified),
    M("shutdown-skips-reports", "H-26", "exits on Shutdown without stopping and reporting",
      px.shutdown_skips_reports),
    M("answers-created", "N-13", "CreateEntity answers state CREATED", px.answers_created),
    M("entity-not-active", "N-14", "an entity in a running flow reads CONFIGURED",
      px.entity_not_active),
    M("media-type-field-unset", "N-15", "entity messages leave media_type unset",
      px.media_type_field_unset),
    M("repeat-ignores-arguments", "N-16", "a repeated request_id with other arguments gets the "
      "first entity", px.repeat_ignores_arguments),
    M("malformed-id-not-found", "N-17", "DestroyEntity of a malformed id is NOT_FOUND",
      px.malformed_id_not_found),
    M("ids-not-reusable", "N-18", "refuses an entity id used before", px.ids_not_reusable),
    M("negative-page-size-accepted", "N-19", "a negative page_size is served as the default",
      px.negative_page_size_accepted),
    M("redaction-written-back", "N-20", "stores '***' as a secret's value",
      px.redaction_written_back),
    M("source-transcodes", "P-15", "a source accepts a codec it does not produce",
      px.source_transcodes),
    M("endpoint-url-unchecked", "P-16", "role SOURCE takes any endpoint URL",
      px.endpoint_url_unchecked),
    M("endpoint-without-format", "P-17", "the TARGET endpoint has no format",
      px.endpoint_without_format),
    M("module-ids-compared", "P-18", "a repeat with other module ids is ALREADY_EXISTS",
      px.module_ids_compared),
    M("duplicate-connections-accepted", "P-19", "StartFlow takes a connection named twice",
      px.duplicate_connections_accepted),
    M("adjust-stopped-flow-ok", "P-20", "AdjustQuality on a stopped flow is OK",
      px.adjust_stopped_flow_ok),
    M("no-start-period", "P-21", "a flow without media stays INITIALIZING for ever",
      flag="no-start-period"),
    M("flush-counts", "P-22", "counts frames without bytes (a decoder's flush) as media",
      flag="flush-counts", subtle="only in the seconds after media stopped"),
    M("target-gives-up", "P-23", "a target never reads a stream that started again",
      flag="target-gives-up", subtle="only after a source restart"),
    M("payload-bitrate", "P-24", "reports 60 % of the bytes on the wire", flag="payload-bitrate"),
    M("events-for-repeats", "E-19", "a repeated ConnectEntities reports CONNECTION_CREATED "
      "again", px.events_for_repeats),
    M("no-status-updates", "E-20", "never sends a StatusUpdate", px.no_status_updates),
    M("connection-events-bare", "E-21", "connection events without both ends in details",
      px.connection_events_bare),
    M("drops-undeclared", "E-22", "drops reports without the WARNING", px.drops_undeclared),
    M("retries-invalid-argument", "E-23", "retries a report answered INVALID_ARGUMENT",
      px.retries_invalid_argument),
    M("schema-without-configurable", "C-8", "has config_schema but is not configurable",
      edit=(("configurable: true\n", "configurable: false\n"),)),
    M("config-not-from-defaults", "C-9", "starts with an empty configuration, not the defaults",
      px.config_not_from_defaults),
    M("revision-on-no-change", "C-10", "raises the revision for a change that changes nothing",
      px.revision_on_no_change),
    M("config-while-stopping", "C-11", "serves ConfigurableModuleService while STOPPING (a 1 s "
      "teardown)",
      px.config_while_stopping),
    M("config-schema-not-strings", "C-12", "an entity config schema with an integer property",
      edit=(('rate: {type: string, pattern: "^[0-9]{1,3}$", default: "25"}',
             "rate: {type: integer, default: 25}"),)),
    M("converter-changes-media", "C-13", "a converter whose output is another media type",
      edit=(("  - type: \"null\"\n", "  - type: vu-meter\n    kind: converter\n"
             "    media_types: [audio]\n    output: {media_types: [video]}\n"
             "  - type: \"null\"\n"),)),
    M("codec-not-carried", "C-14", "declares vp8 over mpegts-udp",
      edit=(("    codecs: [mpeg2video]\n", "    codecs: [vp8]\n"),)),
    M("env-reserved", "C-15", "sets MEDIAGRID_BIND_HOST in env",
      edit=(("configurable: true\n", "env: {MEDIAGRID_BIND_HOST: 0.0.0.0}\nconfigurable: "
             "true\n"),)),
    M("entity-types-reversed", "C-16", "HealthCheck lists entity types in reverse order",
      px.entity_types_reversed),
    M("bearer-case-sensitive", "S-8", "refuses 'bearer' in lower case",
      px.bearer_case_sensitive),
    M("listener-all-interfaces", "S-10", "media listeners bind every interface",
      flag="listener-all-interfaces"),
    M("sigterm-exits-1", "H-8", "stops on SIGTERM but exits 1 (0 after a Shutdown RPC)",
      pm.sigterm_exits_1),
)
BY_NAME = {m.name: m for m in MUTANTS}

TEMPLATE = Path(__file__).with_name("template.yaml")


def manifest_text(mutant: Mutant) -> str:
    if mutant.manifest:
        return f"# Mutant {mutant.name} ({mutant.rule}): {mutant.summary}.\n{mutant.manifest}"
    head = (f"# Mutant {mutant.name} ({mutant.rule}): {mutant.summary}."
            + (f" Subtle: {mutant.subtle}." if mutant.subtle else "")
            + "\n# Written by `python -m mediagrid.simulator.mutants.catalogue --write`.\n")
    text = TEMPLATE.read_text().replace("NAME", mutant.name).replace(
        "SUMMARY", f"{mutant.summary} (breaks {mutant.rule})")
    for old, new in mutant.edit:
        if old not in text:
            raise ValueError(f"mutant {mutant.name}: {old!r} is not in template.yaml")
        text = text.replace(old, new, 1)
    return head + text


def write() -> None:
    for mutant in (*MUTANTS, Mutant(WELL_BEHAVED, "", "the base every mutant changes")):
        mutant.folder.mkdir(parents=True, exist_ok=True)
        (mutant.folder / "module.yaml").write_text(manifest_text(mutant))


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m mediagrid.simulator.mutants.catalogue --write")
    write()
