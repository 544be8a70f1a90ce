import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mediagrid.v1 import common_pb2 as _common_pb2
from mediagrid.v1 import entity_pb2 as _entity_pb2
from mediagrid.v1 import event_pb2 as _event_pb2
from mediagrid.v1 import module_pb2 as _module_pb2
from mediagrid.v1 import pipeline_pb2 as _pipeline_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamSignal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAM_SIGNAL_UNSPECIFIED: _ClassVar[StreamSignal]
    STREAM_SIGNAL_LAGGED: _ClassVar[StreamSignal]
    STREAM_SIGNAL_SHUTTING_DOWN: _ClassVar[StreamSignal]
STREAM_SIGNAL_UNSPECIFIED: StreamSignal
STREAM_SIGNAL_LAGGED: StreamSignal
STREAM_SIGNAL_SHUTTING_DOWN: StreamSignal

class EntityRef(_message.Message):
    __slots__ = ("module_id", "entity_id")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    entity_id: str
    def __init__(self, module_id: _Optional[str] = ..., entity_id: _Optional[str] = ...) -> None: ...

class ListModulesRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListModulesResponse(_message.Message):
    __slots__ = ("modules", "next_page_token")
    MODULES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    modules: _containers.RepeatedCompositeFieldContainer[_module_pb2.ModuleInfo]
    next_page_token: str
    def __init__(self, modules: _Optional[_Iterable[_Union[_module_pb2.ModuleInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetModuleRequest(_message.Message):
    __slots__ = ("module_id",)
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    def __init__(self, module_id: _Optional[str] = ...) -> None: ...

class GetModuleResponse(_message.Message):
    __slots__ = ("module",)
    MODULE_FIELD_NUMBER: _ClassVar[int]
    module: _module_pb2.ModuleInfo
    def __init__(self, module: _Optional[_Union[_module_pb2.ModuleInfo, _Mapping]] = ...) -> None: ...

class FindModulesRequest(_message.Message):
    __slots__ = ("kind", "entity_type", "media_type", "protocol", "codec", "ready_only", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    CODEC_FIELD_NUMBER: _ClassVar[int]
    READY_ONLY_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    kind: _common_pb2.EntityKind
    entity_type: str
    media_type: _common_pb2.MediaType
    protocol: str
    codec: str
    ready_only: bool
    properties: _containers.ScalarMap[str, str]
    def __init__(self, kind: _Optional[_Union[_common_pb2.EntityKind, str]] = ..., entity_type: _Optional[str] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ..., protocol: _Optional[str] = ..., codec: _Optional[str] = ..., ready_only: _Optional[bool] = ..., properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ModuleMatch(_message.Message):
    __slots__ = ("module", "entity_type", "rank")
    MODULE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    module: _module_pb2.ModuleInfo
    entity_type: _module_pb2.EntityTypeInfo
    rank: int
    def __init__(self, module: _Optional[_Union[_module_pb2.ModuleInfo, _Mapping]] = ..., entity_type: _Optional[_Union[_module_pb2.EntityTypeInfo, _Mapping]] = ..., rank: _Optional[int] = ...) -> None: ...

class ModuleMiss(_message.Message):
    __slots__ = ("module_id", "entity_type", "field", "reason")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    entity_type: str
    field: str
    reason: str
    def __init__(self, module_id: _Optional[str] = ..., entity_type: _Optional[str] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class FindModulesResponse(_message.Message):
    __slots__ = ("matches", "misses")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[ModuleMatch]
    misses: _containers.RepeatedCompositeFieldContainer[ModuleMiss]
    def __init__(self, matches: _Optional[_Iterable[_Union[ModuleMatch, _Mapping]]] = ..., misses: _Optional[_Iterable[_Union[ModuleMiss, _Mapping]]] = ...) -> None: ...

class EventFilter(_message.Message):
    __slots__ = ("module_ids", "event_types", "entity_id", "flow_id", "include_status", "include_metrics", "min_severity")
    MODULE_IDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_STATUS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_METRICS_FIELD_NUMBER: _ClassVar[int]
    MIN_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    module_ids: _containers.RepeatedScalarFieldContainer[str]
    event_types: _containers.RepeatedScalarFieldContainer[_event_pb2.EventType]
    entity_id: str
    flow_id: str
    include_status: bool
    include_metrics: bool
    min_severity: _event_pb2.EventSeverity
    def __init__(self, module_ids: _Optional[_Iterable[str]] = ..., event_types: _Optional[_Iterable[_Union[_event_pb2.EventType, str]]] = ..., entity_id: _Optional[str] = ..., flow_id: _Optional[str] = ..., include_status: _Optional[bool] = ..., include_metrics: _Optional[bool] = ..., min_severity: _Optional[_Union[_event_pb2.EventSeverity, str]] = ...) -> None: ...

class SubscribeToEventsRequest(_message.Message):
    __slots__ = ("filter", "since_cursor", "subscriber", "max_batch")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SINCE_CURSOR_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    filter: EventFilter
    since_cursor: str
    subscriber: str
    max_batch: int
    def __init__(self, filter: _Optional[_Union[EventFilter, _Mapping]] = ..., since_cursor: _Optional[str] = ..., subscriber: _Optional[str] = ..., max_batch: _Optional[int] = ...) -> None: ...

class EventEnvelope(_message.Message):
    __slots__ = ("cursor", "received_at", "report")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    received_at: _timestamp_pb2.Timestamp
    report: _event_pb2.ModuleReport
    def __init__(self, cursor: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., report: _Optional[_Union[_event_pb2.ModuleReport, _Mapping]] = ...) -> None: ...

class SubscribeToEventsResponse(_message.Message):
    __slots__ = ("envelopes", "resume_cursor", "bookmark", "signal")
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    RESUME_CURSOR_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    envelopes: _containers.RepeatedCompositeFieldContainer[EventEnvelope]
    resume_cursor: str
    bookmark: bool
    signal: StreamSignal
    def __init__(self, envelopes: _Optional[_Iterable[_Union[EventEnvelope, _Mapping]]] = ..., resume_cursor: _Optional[str] = ..., bookmark: _Optional[bool] = ..., signal: _Optional[_Union[StreamSignal, str]] = ...) -> None: ...

class OrchestratorServiceCreateEntityRequest(_message.Message):
    __slots__ = ("module_id", "request")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    request: _entity_pb2.CreateEntityRequest
    def __init__(self, module_id: _Optional[str] = ..., request: _Optional[_Union[_entity_pb2.CreateEntityRequest, _Mapping]] = ...) -> None: ...

class OrchestratorServiceCreateEntityResponse(_message.Message):
    __slots__ = ("module_id", "response")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    response: _entity_pb2.CreateEntityResponse
    def __init__(self, module_id: _Optional[str] = ..., response: _Optional[_Union[_entity_pb2.CreateEntityResponse, _Mapping]] = ...) -> None: ...

class OrchestratorServiceConfigureEntityRequest(_message.Message):
    __slots__ = ("module_id", "request")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    request: _entity_pb2.ConfigureEntityRequest
    def __init__(self, module_id: _Optional[str] = ..., request: _Optional[_Union[_entity_pb2.ConfigureEntityRequest, _Mapping]] = ...) -> None: ...

class OrchestratorServiceConfigureEntityResponse(_message.Message):
    __slots__ = ("response",)
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    response: _entity_pb2.ConfigureEntityResponse
    def __init__(self, response: _Optional[_Union[_entity_pb2.ConfigureEntityResponse, _Mapping]] = ...) -> None: ...

class OrchestratorServiceGetEntityStatusRequest(_message.Message):
    __slots__ = ("module_id", "request")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    request: _entity_pb2.GetEntityStatusRequest
    def __init__(self, module_id: _Optional[str] = ..., request: _Optional[_Union[_entity_pb2.GetEntityStatusRequest, _Mapping]] = ...) -> None: ...

class OrchestratorServiceGetEntityStatusResponse(_message.Message):
    __slots__ = ("response",)
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    response: _entity_pb2.GetEntityStatusResponse
    def __init__(self, response: _Optional[_Union[_entity_pb2.GetEntityStatusResponse, _Mapping]] = ...) -> None: ...

class OrchestratorServiceDestroyEntityRequest(_message.Message):
    __slots__ = ("module_id", "request")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    request: _entity_pb2.DestroyEntityRequest
    def __init__(self, module_id: _Optional[str] = ..., request: _Optional[_Union[_entity_pb2.DestroyEntityRequest, _Mapping]] = ...) -> None: ...

class OrchestratorServiceDestroyEntityResponse(_message.Message):
    __slots__ = ("response",)
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    response: _entity_pb2.DestroyEntityResponse
    def __init__(self, response: _Optional[_Union[_entity_pb2.DestroyEntityResponse, _Mapping]] = ...) -> None: ...

class OrchestratorServiceListEntitiesRequest(_message.Message):
    __slots__ = ("module_id", "request")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    request: _entity_pb2.ListEntitiesRequest
    def __init__(self, module_id: _Optional[str] = ..., request: _Optional[_Union[_entity_pb2.ListEntitiesRequest, _Mapping]] = ...) -> None: ...

class OrchestratorServiceListEntitiesResponse(_message.Message):
    __slots__ = ("entities", "next_page_token")
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[_entity_pb2.Entity]
    next_page_token: str
    def __init__(self, entities: _Optional[_Iterable[_Union[_entity_pb2.Entity, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class OrchestratorServiceConnectEntitiesRequest(_message.Message):
    __slots__ = ("connection_id", "source", "target", "media_type", "quality", "transport_protocol")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    source: EntityRef
    target: EntityRef
    media_type: _common_pb2.MediaType
    quality: _common_pb2.QualityProfile
    transport_protocol: str
    def __init__(self, connection_id: _Optional[str] = ..., source: _Optional[_Union[EntityRef, _Mapping]] = ..., target: _Optional[_Union[EntityRef, _Mapping]] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ..., quality: _Optional[_Union[_common_pb2.QualityProfile, _Mapping]] = ..., transport_protocol: _Optional[str] = ...) -> None: ...

class OrchestratorServiceConnectEntitiesResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _pipeline_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_pipeline_pb2.Connection, _Mapping]] = ...) -> None: ...

class OrchestratorServiceDisconnectEntitiesRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class OrchestratorServiceDisconnectEntitiesResponse(_message.Message):
    __slots__ = ("disconnected",)
    DISCONNECTED_FIELD_NUMBER: _ClassVar[int]
    disconnected: bool
    def __init__(self, disconnected: _Optional[bool] = ...) -> None: ...

class OrchestratorServiceStartFlowRequest(_message.Message):
    __slots__ = ("flow_id", "name", "connection_ids")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    name: str
    connection_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, flow_id: _Optional[str] = ..., name: _Optional[str] = ..., connection_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class OrchestratorServiceStartFlowResponse(_message.Message):
    __slots__ = ("flow",)
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: _pipeline_pb2.Flow
    def __init__(self, flow: _Optional[_Union[_pipeline_pb2.Flow, _Mapping]] = ...) -> None: ...

class OrchestratorServiceStopFlowRequest(_message.Message):
    __slots__ = ("flow_id",)
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    def __init__(self, flow_id: _Optional[str] = ...) -> None: ...

class OrchestratorServiceStopFlowResponse(_message.Message):
    __slots__ = ("flow", "stopped")
    FLOW_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    flow: _pipeline_pb2.Flow
    stopped: bool
    def __init__(self, flow: _Optional[_Union[_pipeline_pb2.Flow, _Mapping]] = ..., stopped: _Optional[bool] = ...) -> None: ...

class OrchestratorServiceGetFlowStatusRequest(_message.Message):
    __slots__ = ("flow_id",)
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    def __init__(self, flow_id: _Optional[str] = ...) -> None: ...

class OrchestratorServiceGetFlowStatusResponse(_message.Message):
    __slots__ = ("flow",)
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: _pipeline_pb2.Flow
    def __init__(self, flow: _Optional[_Union[_pipeline_pb2.Flow, _Mapping]] = ...) -> None: ...

class OrchestratorServiceAdjustQualityRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _pipeline_pb2.AdjustQualityRequest
    def __init__(self, request: _Optional[_Union[_pipeline_pb2.AdjustQualityRequest, _Mapping]] = ...) -> None: ...

class OrchestratorServiceAdjustQualityResponse(_message.Message):
    __slots__ = ("connections",)
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[_pipeline_pb2.Connection]
    def __init__(self, connections: _Optional[_Iterable[_Union[_pipeline_pb2.Connection, _Mapping]]] = ...) -> None: ...

class CreatePipelineRequest(_message.Message):
    __slots__ = ("request_id", "name", "source", "sink", "media_type", "quality", "start", "pipeline_id", "via", "transport_protocol")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SINK_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    source: EntityRef
    sink: EntityRef
    media_type: _common_pb2.MediaType
    quality: _common_pb2.QualityProfile
    start: bool
    pipeline_id: str
    via: _containers.RepeatedCompositeFieldContainer[EntityRef]
    transport_protocol: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., source: _Optional[_Union[EntityRef, _Mapping]] = ..., sink: _Optional[_Union[EntityRef, _Mapping]] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ..., quality: _Optional[_Union[_common_pb2.QualityProfile, _Mapping]] = ..., start: _Optional[bool] = ..., pipeline_id: _Optional[str] = ..., via: _Optional[_Iterable[_Union[EntityRef, _Mapping]]] = ..., transport_protocol: _Optional[str] = ...) -> None: ...

class CreatePipelineResponse(_message.Message):
    __slots__ = ("flow", "created_entities", "plan")
    FLOW_FIELD_NUMBER: _ClassVar[int]
    CREATED_ENTITIES_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    flow: _pipeline_pb2.Flow
    created_entities: _containers.RepeatedCompositeFieldContainer[EntityRef]
    plan: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, flow: _Optional[_Union[_pipeline_pb2.Flow, _Mapping]] = ..., created_entities: _Optional[_Iterable[_Union[EntityRef, _Mapping]]] = ..., plan: _Optional[_Iterable[str]] = ...) -> None: ...

class DeletePipelineRequest(_message.Message):
    __slots__ = ("pipeline_id",)
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    pipeline_id: str
    def __init__(self, pipeline_id: _Optional[str] = ...) -> None: ...

class DeletePipelineResponse(_message.Message):
    __slots__ = ("deleted", "removed_connections", "destroyed_entities")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    DESTROYED_ENTITIES_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    removed_connections: _containers.RepeatedScalarFieldContainer[str]
    destroyed_entities: _containers.RepeatedCompositeFieldContainer[EntityRef]
    def __init__(self, deleted: _Optional[bool] = ..., removed_connections: _Optional[_Iterable[str]] = ..., destroyed_entities: _Optional[_Iterable[_Union[EntityRef, _Mapping]]] = ...) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ("page", "module_id")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    module_id: str
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., module_id: _Optional[str] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections", "next_page_token")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[_pipeline_pb2.Connection]
    next_page_token: str
    def __init__(self, connections: _Optional[_Iterable[_Union[_pipeline_pb2.Connection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListFlowsRequest(_message.Message):
    __slots__ = ("page", "include_stopped")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_STOPPED_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    include_stopped: bool
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., include_stopped: _Optional[bool] = ...) -> None: ...

class ListFlowsResponse(_message.Message):
    __slots__ = ("flows", "next_page_token")
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flows: _containers.RepeatedCompositeFieldContainer[_pipeline_pb2.Flow]
    next_page_token: str
    def __init__(self, flows: _Optional[_Iterable[_Union[_pipeline_pb2.Flow, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RestartModuleRequest(_message.Message):
    __slots__ = ("module_id", "reason")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    reason: str
    def __init__(self, module_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RestartModuleResponse(_message.Message):
    __slots__ = ("module",)
    MODULE_FIELD_NUMBER: _ClassVar[int]
    module: _module_pb2.ModuleInfo
    def __init__(self, module: _Optional[_Union[_module_pb2.ModuleInfo, _Mapping]] = ...) -> None: ...

class RescanModulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ManifestProblem(_message.Message):
    __slots__ = ("file", "field", "message", "fix")
    FILE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIX_FIELD_NUMBER: _ClassVar[int]
    file: str
    field: str
    message: str
    fix: str
    def __init__(self, file: _Optional[str] = ..., field: _Optional[str] = ..., message: _Optional[str] = ..., fix: _Optional[str] = ...) -> None: ...

class RescanModulesResponse(_message.Message):
    __slots__ = ("added", "removed", "changed", "problems")
    ADDED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    added: _containers.RepeatedScalarFieldContainer[str]
    removed: _containers.RepeatedScalarFieldContainer[str]
    changed: _containers.RepeatedScalarFieldContainer[str]
    problems: _containers.RepeatedCompositeFieldContainer[ManifestProblem]
    def __init__(self, added: _Optional[_Iterable[str]] = ..., removed: _Optional[_Iterable[str]] = ..., changed: _Optional[_Iterable[str]] = ..., problems: _Optional[_Iterable[_Union[ManifestProblem, _Mapping]]] = ...) -> None: ...
