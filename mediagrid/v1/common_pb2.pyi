import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MediaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_TYPE_UNSPECIFIED: _ClassVar[MediaType]
    MEDIA_TYPE_AUDIO: _ClassVar[MediaType]
    MEDIA_TYPE_VIDEO: _ClassVar[MediaType]

class HealthStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_STATUS_UNSPECIFIED: _ClassVar[HealthStatus]
    HEALTH_STATUS_HEALTHY: _ClassVar[HealthStatus]
    HEALTH_STATUS_DEGRADED: _ClassVar[HealthStatus]
    HEALTH_STATUS_UNHEALTHY: _ClassVar[HealthStatus]

class EntityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_KIND_UNSPECIFIED: _ClassVar[EntityKind]
    ENTITY_KIND_SOURCE: _ClassVar[EntityKind]
    ENTITY_KIND_SINK: _ClassVar[EntityKind]
    ENTITY_KIND_CONVERTER: _ClassVar[EntityKind]
    ENTITY_KIND_PROTOCOL: _ClassVar[EntityKind]

class EntityState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_STATE_UNSPECIFIED: _ClassVar[EntityState]
    ENTITY_STATE_CREATED: _ClassVar[EntityState]
    ENTITY_STATE_CONFIGURED: _ClassVar[EntityState]
    ENTITY_STATE_ACTIVE: _ClassVar[EntityState]
    ENTITY_STATE_ERROR: _ClassVar[EntityState]
    ENTITY_STATE_DESTROYED: _ClassVar[EntityState]
MEDIA_TYPE_UNSPECIFIED: MediaType
MEDIA_TYPE_AUDIO: MediaType
MEDIA_TYPE_VIDEO: MediaType
HEALTH_STATUS_UNSPECIFIED: HealthStatus
HEALTH_STATUS_HEALTHY: HealthStatus
HEALTH_STATUS_DEGRADED: HealthStatus
HEALTH_STATUS_UNHEALTHY: HealthStatus
ENTITY_KIND_UNSPECIFIED: EntityKind
ENTITY_KIND_SOURCE: EntityKind
ENTITY_KIND_SINK: EntityKind
ENTITY_KIND_CONVERTER: EntityKind
ENTITY_KIND_PROTOCOL: EntityKind
ENTITY_STATE_UNSPECIFIED: EntityState
ENTITY_STATE_CREATED: EntityState
ENTITY_STATE_CONFIGURED: EntityState
ENTITY_STATE_ACTIVE: EntityState
ENTITY_STATE_ERROR: EntityState
ENTITY_STATE_DESTROYED: EntityState

class MetricValue(_message.Message):
    __slots__ = ("int_value", "double_value", "string_value", "bool_value")
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    int_value: int
    double_value: float
    string_value: str
    bool_value: bool
    def __init__(self, int_value: _Optional[int] = ..., double_value: _Optional[float] = ..., string_value: _Optional[str] = ..., bool_value: _Optional[bool] = ...) -> None: ...

class Resolution(_message.Message):
    __slots__ = ("width", "height")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class QualityProfile(_message.Message):
    __slots__ = ("resolution", "bitrate", "framerate", "video_codec", "audio_codec")
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    BITRATE_FIELD_NUMBER: _ClassVar[int]
    FRAMERATE_FIELD_NUMBER: _ClassVar[int]
    VIDEO_CODEC_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CODEC_FIELD_NUMBER: _ClassVar[int]
    resolution: Resolution
    bitrate: int
    framerate: int
    video_codec: str
    audio_codec: str
    def __init__(self, resolution: _Optional[_Union[Resolution, _Mapping]] = ..., bitrate: _Optional[int] = ..., framerate: _Optional[int] = ..., video_codec: _Optional[str] = ..., audio_codec: _Optional[str] = ...) -> None: ...

class MediaFormat(_message.Message):
    __slots__ = ("container", "video_codec", "audio_codec", "resolution", "bitrate")
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    VIDEO_CODEC_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CODEC_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    BITRATE_FIELD_NUMBER: _ClassVar[int]
    container: str
    video_codec: str
    audio_codec: str
    resolution: Resolution
    bitrate: int
    def __init__(self, container: _Optional[str] = ..., video_codec: _Optional[str] = ..., audio_codec: _Optional[str] = ..., resolution: _Optional[_Union[Resolution, _Mapping]] = ..., bitrate: _Optional[int] = ...) -> None: ...

class EntityCapabilities(_message.Message):
    __slots__ = ("supported_protocols", "supported_codecs", "media_type", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SUPPORTED_PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_CODECS_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    supported_protocols: _containers.RepeatedScalarFieldContainer[str]
    supported_codecs: _containers.RepeatedScalarFieldContainer[str]
    media_type: MediaType
    properties: _containers.ScalarMap[str, str]
    def __init__(self, supported_protocols: _Optional[_Iterable[str]] = ..., supported_codecs: _Optional[_Iterable[str]] = ..., media_type: _Optional[_Union[MediaType, str]] = ..., properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class EntityStatus(_message.Message):
    __slots__ = ("state", "health", "error_message", "active_connections", "metrics", "created_at", "last_updated")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MetricValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MetricValue, _Mapping]] = ...) -> None: ...
    STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    state: EntityState
    health: HealthStatus
    error_message: str
    active_connections: _containers.RepeatedScalarFieldContainer[str]
    metrics: _containers.MessageMap[str, MetricValue]
    created_at: _timestamp_pb2.Timestamp
    last_updated: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[EntityState, str]] = ..., health: _Optional[_Union[HealthStatus, str]] = ..., error_message: _Optional[str] = ..., active_connections: _Optional[_Iterable[str]] = ..., metrics: _Optional[_Mapping[str, MetricValue]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...
