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

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_ENTITY_CREATED: _ClassVar[EventType]
    EVENT_TYPE_ENTITY_CONFIGURED: _ClassVar[EventType]
    EVENT_TYPE_ENTITY_DESTROYED: _ClassVar[EventType]
    EVENT_TYPE_CONNECTION_CREATED: _ClassVar[EventType]
    EVENT_TYPE_CONNECTION_REMOVED: _ClassVar[EventType]
    EVENT_TYPE_FLOW_STARTED: _ClassVar[EventType]
    EVENT_TYPE_FLOW_STOPPED: _ClassVar[EventType]
    EVENT_TYPE_QUALITY_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_ERROR: _ClassVar[EventType]
    EVENT_TYPE_WARNING: _ClassVar[EventType]
    EVENT_TYPE_INFO: _ClassVar[EventType]
    EVENT_TYPE_MODULE_STATE_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_MODULE_RESTARTED: _ClassVar[EventType]
    EVENT_TYPE_FLOW_STATE_CHANGED: _ClassVar[EventType]

class EventSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_SEVERITY_UNSPECIFIED: _ClassVar[EventSeverity]
    EVENT_SEVERITY_INFO: _ClassVar[EventSeverity]
    EVENT_SEVERITY_WARNING: _ClassVar[EventSeverity]
    EVENT_SEVERITY_ERROR: _ClassVar[EventSeverity]
    EVENT_SEVERITY_CRITICAL: _ClassVar[EventSeverity]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_ENTITY_CREATED: EventType
EVENT_TYPE_ENTITY_CONFIGURED: EventType
EVENT_TYPE_ENTITY_DESTROYED: EventType
EVENT_TYPE_CONNECTION_CREATED: EventType
EVENT_TYPE_CONNECTION_REMOVED: EventType
EVENT_TYPE_FLOW_STARTED: EventType
EVENT_TYPE_FLOW_STOPPED: EventType
EVENT_TYPE_QUALITY_CHANGED: EventType
EVENT_TYPE_ERROR: EventType
EVENT_TYPE_WARNING: EventType
EVENT_TYPE_INFO: EventType
EVENT_TYPE_MODULE_STATE_CHANGED: EventType
EVENT_TYPE_MODULE_RESTARTED: EventType
EVENT_TYPE_FLOW_STATE_CHANGED: EventType
EVENT_SEVERITY_UNSPECIFIED: EventSeverity
EVENT_SEVERITY_INFO: EventSeverity
EVENT_SEVERITY_WARNING: EventSeverity
EVENT_SEVERITY_ERROR: EventSeverity
EVENT_SEVERITY_CRITICAL: EventSeverity

class ReportHeader(_message.Message):
    __slots__ = ("module_id", "instance_id", "sequence")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    instance_id: str
    sequence: int
    def __init__(self, module_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "type", "severity", "source_module_id", "source_entity_id", "message", "details", "timestamp", "connection_id", "flow_id")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: EventType
    severity: EventSeverity
    source_module_id: str
    source_entity_id: str
    message: str
    details: _containers.ScalarMap[str, str]
    timestamp: _timestamp_pb2.Timestamp
    connection_id: str
    flow_id: str
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[EventType, str]] = ..., severity: _Optional[_Union[EventSeverity, str]] = ..., source_module_id: _Optional[str] = ..., source_entity_id: _Optional[str] = ..., message: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., connection_id: _Optional[str] = ..., flow_id: _Optional[str] = ...) -> None: ...

class StatusUpdate(_message.Message):
    __slots__ = ("module_id", "entity_id", "entity_status", "timestamp")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_STATUS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    entity_id: str
    entity_status: _common_pb2.EntityStatus
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, module_id: _Optional[str] = ..., entity_id: _Optional[str] = ..., entity_status: _Optional[_Union[_common_pb2.EntityStatus, _Mapping]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Metrics(_message.Message):
    __slots__ = ("module_id", "entity_id", "flow_id", "connection_id", "metrics", "timestamp")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.MetricValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.MetricValue, _Mapping]] = ...) -> None: ...
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    entity_id: str
    flow_id: str
    connection_id: str
    metrics: _containers.MessageMap[str, _common_pb2.MetricValue]
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, module_id: _Optional[str] = ..., entity_id: _Optional[str] = ..., flow_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., metrics: _Optional[_Mapping[str, _common_pb2.MetricValue]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ModuleReport(_message.Message):
    __slots__ = ("header", "event", "status", "metrics")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    header: ReportHeader
    event: Event
    status: StatusUpdate
    metrics: Metrics
    def __init__(self, header: _Optional[_Union[ReportHeader, _Mapping]] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., status: _Optional[_Union[StatusUpdate, _Mapping]] = ..., metrics: _Optional[_Union[Metrics, _Mapping]] = ...) -> None: ...

class ReportEventRequest(_message.Message):
    __slots__ = ("header", "event")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    header: ReportHeader
    event: Event
    def __init__(self, header: _Optional[_Union[ReportHeader, _Mapping]] = ..., event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class ReportEventResponse(_message.Message):
    __slots__ = ("duplicate",)
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    def __init__(self, duplicate: _Optional[bool] = ...) -> None: ...

class ReportStatusRequest(_message.Message):
    __slots__ = ("header", "status")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    header: ReportHeader
    status: StatusUpdate
    def __init__(self, header: _Optional[_Union[ReportHeader, _Mapping]] = ..., status: _Optional[_Union[StatusUpdate, _Mapping]] = ...) -> None: ...

class ReportStatusResponse(_message.Message):
    __slots__ = ("duplicate",)
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    def __init__(self, duplicate: _Optional[bool] = ...) -> None: ...

class ReportMetricsRequest(_message.Message):
    __slots__ = ("header", "metrics")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    header: ReportHeader
    metrics: Metrics
    def __init__(self, header: _Optional[_Union[ReportHeader, _Mapping]] = ..., metrics: _Optional[_Union[Metrics, _Mapping]] = ...) -> None: ...

class ReportMetricsResponse(_message.Message):
    __slots__ = ("duplicate",)
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    def __init__(self, duplicate: _Optional[bool] = ...) -> None: ...

class ReportBatchRequest(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[ModuleReport]
    def __init__(self, reports: _Optional[_Iterable[_Union[ModuleReport, _Mapping]]] = ...) -> None: ...

class ReportBatchResponse(_message.Message):
    __slots__ = ("accepted", "duplicates")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    duplicates: int
    def __init__(self, accepted: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...
