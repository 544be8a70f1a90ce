"""The config service (the protocol design's own example of a service): it watches the event
stream and gives every configurable module its configuration whenever it becomes READY, also
after each restart. See docs/config-service.md."""
