import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mediagrid.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATE_UNSPECIFIED: _ClassVar[ConnectionState]
    CONNECTION_STATE_ESTABLISHED: _ClassVar[ConnectionState]
    CONNECTION_STATE_ACTIVE: _ClassVar[ConnectionState]
    CONNECTION_STATE_STOPPED: _ClassVar[ConnectionState]
    CONNECTION_STATE_ERROR: _ClassVar[ConnectionState]
    CONNECTION_STATE_CLOSED: _ClassVar[ConnectionState]

class FlowState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FLOW_STATE_UNSPECIFIED: _ClassVar[FlowState]
    FLOW_STATE_INITIALIZING: _ClassVar[FlowState]
    FLOW_STATE_ACTIVE: _ClassVar[FlowState]
    FLOW_STATE_STOPPED: _ClassVar[FlowState]
    FLOW_STATE_ERROR: _ClassVar[FlowState]

class ConnectionRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_ROLE_UNSPECIFIED: _ClassVar[ConnectionRole]
    CONNECTION_ROLE_LOCAL: _ClassVar[ConnectionRole]
    CONNECTION_ROLE_SOURCE: _ClassVar[ConnectionRole]
    CONNECTION_ROLE_TARGET: _ClassVar[ConnectionRole]
CONNECTION_STATE_UNSPECIFIED: ConnectionState
CONNECTION_STATE_ESTABLISHED: ConnectionState
CONNECTION_STATE_ACTIVE: ConnectionState
CONNECTION_STATE_STOPPED: ConnectionState
CONNECTION_STATE_ERROR: ConnectionState
CONNECTION_STATE_CLOSED: ConnectionState
FLOW_STATE_UNSPECIFIED: FlowState
FLOW_STATE_INITIALIZING: FlowState
FLOW_STATE_ACTIVE: FlowState
FLOW_STATE_STOPPED: FlowState
FLOW_STATE_ERROR: FlowState
CONNECTION_ROLE_UNSPECIFIED: ConnectionRole
CONNECTION_ROLE_LOCAL: ConnectionRole
CONNECTION_ROLE_SOURCE: ConnectionRole
CONNECTION_ROLE_TARGET: ConnectionRole

class MediaEndpoint(_message.Message):
    __slots__ = ("transport", "url", "format")
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    transport: str
    url: str
    format: _common_pb2.MediaFormat
    def __init__(self, transport: _Optional[str] = ..., url: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.MediaFormat, _Mapping]] = ...) -> None: ...

class ConnectionMetrics(_message.Message):
    __slots__ = ("bitrate_bps", "fps", "frames", "latency_ms", "dropped_frames", "restarts")
    BITRATE_BPS_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    bitrate_bps: int
    fps: float
    frames: int
    latency_ms: int
    dropped_frames: int
    restarts: int
    def __init__(self, bitrate_bps: _Optional[int] = ..., fps: _Optional[float] = ..., frames: _Optional[int] = ..., latency_ms: _Optional[int] = ..., dropped_frames: _Optional[int] = ..., restarts: _Optional[int] = ...) -> None: ...

class ConnectionStatus(_message.Message):
    __slots__ = ("state", "health", "error_message")
    STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    state: ConnectionState
    health: _common_pb2.HealthStatus
    error_message: str
    def __init__(self, state: _Optional[_Union[ConnectionState, str]] = ..., health: _Optional[_Union[_common_pb2.HealthStatus, str]] = ..., error_message: _Optional[str] = ...) -> None: ...

class Connection(_message.Message):
    __slots__ = ("id", "source_entity_id", "target_entity_id", "media_type", "transport_protocol", "quality", "status", "metrics", "source_module_id", "target_module_id", "endpoint")
    ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    id: str
    source_entity_id: str
    target_entity_id: str
    media_type: _common_pb2.MediaType
    transport_protocol: str
    quality: _common_pb2.QualityProfile
    status: ConnectionStatus
    metrics: ConnectionMetrics
    source_module_id: str
    target_module_id: str
    endpoint: MediaEndpoint
    def __init__(self, id: _Optional[str] = ..., source_entity_id: _Optional[str] = ..., target_entity_id: _Optional[str] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ..., transport_protocol: _Optional[str] = ..., quality: _Optional[_Union[_common_pb2.QualityProfile, _Mapping]] = ..., status: _Optional[_Union[ConnectionStatus, _Mapping]] = ..., metrics: _Optional[_Union[ConnectionMetrics, _Mapping]] = ..., source_module_id: _Optional[str] = ..., target_module_id: _Optional[str] = ..., endpoint: _Optional[_Union[MediaEndpoint, _Mapping]] = ...) -> None: ...

class FlowMetrics(_message.Message):
    __slots__ = ("fps", "frames", "dropped_frames", "restarts", "bytes_written")
    FPS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    BYTES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    fps: float
    frames: int
    dropped_frames: int
    restarts: int
    bytes_written: int
    def __init__(self, fps: _Optional[float] = ..., frames: _Optional[int] = ..., dropped_frames: _Optional[int] = ..., restarts: _Optional[int] = ..., bytes_written: _Optional[int] = ...) -> None: ...

class FlowStatus(_message.Message):
    __slots__ = ("state", "health", "error_message", "bandwidth_usage", "latency_ms")
    STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    BANDWIDTH_USAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    state: FlowState
    health: _common_pb2.HealthStatus
    error_message: str
    bandwidth_usage: int
    latency_ms: int
    def __init__(self, state: _Optional[_Union[FlowState, str]] = ..., health: _Optional[_Union[_common_pb2.HealthStatus, str]] = ..., error_message: _Optional[str] = ..., bandwidth_usage: _Optional[int] = ..., latency_ms: _Optional[int] = ...) -> None: ...

class Flow(_message.Message):
    __slots__ = ("id", "name", "connections", "status", "metrics", "created_at", "started_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    status: FlowStatus
    metrics: FlowMetrics
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ..., status: _Optional[_Union[FlowStatus, _Mapping]] = ..., metrics: _Optional[_Union[FlowMetrics, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConnectEntitiesRequest(_message.Message):
    __slots__ = ("connection_id", "source_entity_id", "target_entity_id", "media_type", "role", "endpoint", "quality", "transport_protocol", "source_module_id", "target_module_id")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    source_entity_id: str
    target_entity_id: str
    media_type: _common_pb2.MediaType
    role: ConnectionRole
    endpoint: MediaEndpoint
    quality: _common_pb2.QualityProfile
    transport_protocol: str
    source_module_id: str
    target_module_id: str
    def __init__(self, connection_id: _Optional[str] = ..., source_entity_id: _Optional[str] = ..., target_entity_id: _Optional[str] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ..., role: _Optional[_Union[ConnectionRole, str]] = ..., endpoint: _Optional[_Union[MediaEndpoint, _Mapping]] = ..., quality: _Optional[_Union[_common_pb2.QualityProfile, _Mapping]] = ..., transport_protocol: _Optional[str] = ..., source_module_id: _Optional[str] = ..., target_module_id: _Optional[str] = ...) -> None: ...

class ConnectEntitiesResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ...) -> None: ...

class DisconnectEntitiesRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class DisconnectEntitiesResponse(_message.Message):
    __slots__ = ("disconnected",)
    DISCONNECTED_FIELD_NUMBER: _ClassVar[int]
    disconnected: bool
    def __init__(self, disconnected: _Optional[bool] = ...) -> None: ...

class StartFlowRequest(_message.Message):
    __slots__ = ("flow_id", "name", "connection_ids")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    name: str
    connection_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, flow_id: _Optional[str] = ..., name: _Optional[str] = ..., connection_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class StartFlowResponse(_message.Message):
    __slots__ = ("flow",)
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: Flow
    def __init__(self, flow: _Optional[_Union[Flow, _Mapping]] = ...) -> None: ...

class StopFlowRequest(_message.Message):
    __slots__ = ("flow_id",)
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    def __init__(self, flow_id: _Optional[str] = ...) -> None: ...

class StopFlowResponse(_message.Message):
    __slots__ = ("flow", "stopped")
    FLOW_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    flow: Flow
    stopped: bool
    def __init__(self, flow: _Optional[_Union[Flow, _Mapping]] = ..., stopped: _Optional[bool] = ...) -> None: ...

class GetFlowStatusRequest(_message.Message):
    __slots__ = ("flow_id",)
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    def __init__(self, flow_id: _Optional[str] = ...) -> None: ...

class GetFlowStatusResponse(_message.Message):
    __slots__ = ("flow",)
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: Flow
    def __init__(self, flow: _Optional[_Union[Flow, _Mapping]] = ...) -> None: ...

class AdjustQualityRequest(_message.Message):
    __slots__ = ("flow_id", "connection_id", "quality")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    connection_id: str
    quality: _common_pb2.QualityProfile
    def __init__(self, flow_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., quality: _Optional[_Union[_common_pb2.QualityProfile, _Mapping]] = ...) -> None: ...

class AdjustQualityResponse(_message.Message):
    __slots__ = ("connections",)
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    def __init__(self, connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ...) -> None: ...
