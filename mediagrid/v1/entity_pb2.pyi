from mediagrid.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MediaSource(_message.Message):
    __slots__ = ("id", "name", "type", "config", "status", "provides", "media_type")
    class ConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROVIDES_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    type: str
    config: _containers.ScalarMap[str, str]
    status: _common_pb2.EntityStatus
    provides: _common_pb2.EntityCapabilities
    media_type: _common_pb2.MediaType
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., config: _Optional[_Mapping[str, str]] = ..., status: _Optional[_Union[_common_pb2.EntityStatus, _Mapping]] = ..., provides: _Optional[_Union[_common_pb2.EntityCapabilities, _Mapping]] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ...) -> None: ...

class MediaSink(_message.Message):
    __slots__ = ("id", "name", "type", "config", "status", "requires", "media_type")
    class ConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    type: str
    config: _containers.ScalarMap[str, str]
    status: _common_pb2.EntityStatus
    requires: _common_pb2.EntityCapabilities
    media_type: _common_pb2.MediaType
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., config: _Optional[_Mapping[str, str]] = ..., status: _Optional[_Union[_common_pb2.EntityStatus, _Mapping]] = ..., requires: _Optional[_Union[_common_pb2.EntityCapabilities, _Mapping]] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ...) -> None: ...

class Protocol(_message.Message):
    __slots__ = ("id", "name", "type", "config", "status", "requires_audio", "requires_video", "media_type")
    class ConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_AUDIO_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_VIDEO_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    type: str
    config: _containers.ScalarMap[str, str]
    status: _common_pb2.EntityStatus
    requires_audio: _common_pb2.EntityCapabilities
    requires_video: _common_pb2.EntityCapabilities
    media_type: _common_pb2.MediaType
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., config: _Optional[_Mapping[str, str]] = ..., status: _Optional[_Union[_common_pb2.EntityStatus, _Mapping]] = ..., requires_audio: _Optional[_Union[_common_pb2.EntityCapabilities, _Mapping]] = ..., requires_video: _Optional[_Union[_common_pb2.EntityCapabilities, _Mapping]] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ...) -> None: ...

class Converter(_message.Message):
    __slots__ = ("id", "name", "type", "config", "status", "input", "output", "media_type")
    class ConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    type: str
    config: _containers.ScalarMap[str, str]
    status: _common_pb2.EntityStatus
    input: _common_pb2.EntityCapabilities
    output: _common_pb2.EntityCapabilities
    media_type: _common_pb2.MediaType
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., config: _Optional[_Mapping[str, str]] = ..., status: _Optional[_Union[_common_pb2.EntityStatus, _Mapping]] = ..., input: _Optional[_Union[_common_pb2.EntityCapabilities, _Mapping]] = ..., output: _Optional[_Union[_common_pb2.EntityCapabilities, _Mapping]] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ...) -> None: ...

class Entity(_message.Message):
    __slots__ = ("source", "sink", "protocol", "converter", "module_id")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SINK_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    CONVERTER_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    source: MediaSource
    sink: MediaSink
    protocol: Protocol
    converter: Converter
    module_id: str
    def __init__(self, source: _Optional[_Union[MediaSource, _Mapping]] = ..., sink: _Optional[_Union[MediaSink, _Mapping]] = ..., protocol: _Optional[_Union[Protocol, _Mapping]] = ..., converter: _Optional[_Union[Converter, _Mapping]] = ..., module_id: _Optional[str] = ...) -> None: ...

class CreateEntityRequest(_message.Message):
    __slots__ = ("request_id", "entity_type", "name", "config", "media_type", "entity_id")
    class ConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    entity_type: str
    name: str
    config: _containers.ScalarMap[str, str]
    media_type: _common_pb2.MediaType
    entity_id: str
    def __init__(self, request_id: _Optional[str] = ..., entity_type: _Optional[str] = ..., name: _Optional[str] = ..., config: _Optional[_Mapping[str, str]] = ..., media_type: _Optional[_Union[_common_pb2.MediaType, str]] = ..., entity_id: _Optional[str] = ...) -> None: ...

class CreateEntityResponse(_message.Message):
    __slots__ = ("entity", "created")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    entity: Entity
    created: bool
    def __init__(self, entity: _Optional[_Union[Entity, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ConfigureEntityRequest(_message.Message):
    __slots__ = ("entity_id", "config", "replace")
    class ConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    config: _containers.ScalarMap[str, str]
    replace: bool
    def __init__(self, entity_id: _Optional[str] = ..., config: _Optional[_Mapping[str, str]] = ..., replace: _Optional[bool] = ...) -> None: ...

class ConfigureEntityResponse(_message.Message):
    __slots__ = ("entity",)
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    entity: Entity
    def __init__(self, entity: _Optional[_Union[Entity, _Mapping]] = ...) -> None: ...

class GetEntityStatusRequest(_message.Message):
    __slots__ = ("entity_id",)
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    def __init__(self, entity_id: _Optional[str] = ...) -> None: ...

class GetEntityStatusResponse(_message.Message):
    __slots__ = ("entity_id", "status")
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    status: _common_pb2.EntityStatus
    def __init__(self, entity_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.EntityStatus, _Mapping]] = ...) -> None: ...

class DestroyEntityRequest(_message.Message):
    __slots__ = ("entity_id",)
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    def __init__(self, entity_id: _Optional[str] = ...) -> None: ...

class DestroyEntityResponse(_message.Message):
    __slots__ = ("destroyed",)
    DESTROYED_FIELD_NUMBER: _ClassVar[int]
    destroyed: bool
    def __init__(self, destroyed: _Optional[bool] = ...) -> None: ...

class ListEntitiesRequest(_message.Message):
    __slots__ = ("page", "entity_type")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    entity_type: str
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., entity_type: _Optional[str] = ...) -> None: ...

class ListEntitiesResponse(_message.Message):
    __slots__ = ("entities", "next_page_token")
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[Entity]
    next_page_token: str
    def __init__(self, entities: _Optional[_Iterable[_Union[Entity, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
