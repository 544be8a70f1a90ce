"""Stack files: the desired state of a whole system (module folders, entities with their
configs, pipelines with their quality, module configurations), applied by
`mediagrid up --stack FILE` and checked by `mediagrid validate FILE` (docs/stacks.md)."""
