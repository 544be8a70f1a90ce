"""The display module: the `display` sink (module.yaml beside this file)."""
