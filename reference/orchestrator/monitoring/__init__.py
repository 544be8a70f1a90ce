"""Watching running flows: merged status polled from every module, into the event stream."""
