"""The recorder module: the `file` sink (module.yaml beside this file)."""
