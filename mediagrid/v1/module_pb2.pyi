import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mediagrid.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModuleState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODULE_STATE_UNSPECIFIED: _ClassVar[ModuleState]
    MODULE_STATE_STARTING: _ClassVar[ModuleState]
    MODULE_STATE_READY: _ClassVar[ModuleState]
    MODULE_STATE_ERROR: _ClassVar[ModuleState]
    MODULE_STATE_STOPPING: _ClassVar[ModuleState]
MODULE_STATE_UNSPECIFIED: ModuleState
MODULE_STATE_STARTING: ModuleState
MODULE_STATE_READY: ModuleState
MODULE_STATE_ERROR: ModuleState
MODULE_STATE_STOPPING: ModuleState

class ModuleStatus(_message.Message):
    __slots__ = ("state", "health", "error_message", "last_heartbeat", "instance_id", "started_at")
    STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    state: ModuleState
    health: _common_pb2.HealthStatus
    error_message: str
    last_heartbeat: _timestamp_pb2.Timestamp
    instance_id: str
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[ModuleState, str]] = ..., health: _Optional[_Union[_common_pb2.HealthStatus, str]] = ..., error_message: _Optional[str] = ..., last_heartbeat: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., instance_id: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EntityTypeInfo(_message.Message):
    __slots__ = ("type", "kind", "capabilities", "output_capabilities", "description")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    type: str
    kind: _common_pb2.EntityKind
    capabilities: _containers.RepeatedCompositeFieldContainer[_common_pb2.EntityCapabilities]
    output_capabilities: _containers.RepeatedCompositeFieldContainer[_common_pb2.EntityCapabilities]
    description: str
    def __init__(self, type: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.EntityKind, str]] = ..., capabilities: _Optional[_Iterable[_Union[_common_pb2.EntityCapabilities, _Mapping]]] = ..., output_capabilities: _Optional[_Iterable[_Union[_common_pb2.EntityCapabilities, _Mapping]]] = ..., description: _Optional[str] = ...) -> None: ...

class ModuleInfo(_message.Message):
    __slots__ = ("id", "name", "version", "description", "grpc_address", "status", "entity_types", "restart_count", "manifest_path", "last_error", "pid", "configurable")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPES_FIELD_NUMBER: _ClassVar[int]
    RESTART_COUNT_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_PATH_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    CONFIGURABLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    version: str
    description: str
    grpc_address: str
    status: ModuleStatus
    entity_types: _containers.RepeatedCompositeFieldContainer[EntityTypeInfo]
    restart_count: int
    manifest_path: str
    last_error: str
    pid: int
    configurable: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., description: _Optional[str] = ..., grpc_address: _Optional[str] = ..., status: _Optional[_Union[ModuleStatus, _Mapping]] = ..., entity_types: _Optional[_Iterable[_Union[EntityTypeInfo, _Mapping]]] = ..., restart_count: _Optional[int] = ..., manifest_path: _Optional[str] = ..., last_error: _Optional[str] = ..., pid: _Optional[int] = ..., configurable: _Optional[bool] = ...) -> None: ...

class HealthCheckRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HealthCheckResponse(_message.Message):
    __slots__ = ("module_id", "status", "entity_types", "entity_count", "version")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPES_FIELD_NUMBER: _ClassVar[int]
    ENTITY_COUNT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    status: ModuleStatus
    entity_types: _containers.RepeatedCompositeFieldContainer[EntityTypeInfo]
    entity_count: int
    version: str
    def __init__(self, module_id: _Optional[str] = ..., status: _Optional[_Union[ModuleStatus, _Mapping]] = ..., entity_types: _Optional[_Iterable[_Union[EntityTypeInfo, _Mapping]]] = ..., entity_count: _Optional[int] = ..., version: _Optional[str] = ...) -> None: ...

class ShutdownRequest(_message.Message):
    __slots__ = ("grace_period", "reason")
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    grace_period: _duration_pb2.Duration
    reason: str
    def __init__(self, grace_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ShutdownResponse(_message.Message):
    __slots__ = ("initiated",)
    INITIATED_FIELD_NUMBER: _ClassVar[int]
    initiated: bool
    def __init__(self, initiated: _Optional[bool] = ...) -> None: ...
