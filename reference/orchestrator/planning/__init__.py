"""Capability matching, FindModules and pipeline planning (CreatePipeline, DeletePipeline)."""
