"""Maps the top-level folders into one distribution.

`reference/`, `simulator/` and `conformance/` install as `mediagrid.reference`,
`mediagrid.simulator` and `mediagrid.conformance`, so nothing installs a bare
top-level `reference` or `simulator` package. Everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

ROOTS = {
    "mediagrid": "mediagrid",
    "mediagrid.reference": "reference",
    "mediagrid.simulator": "simulator",
    "mediagrid.conformance": "conformance",
}

packages: list[str] = []
for name, path in ROOTS.items():
    packages += [name] + [f"{name}.{sub}" for sub in find_packages(path)]

setup(packages=packages, package_dir=ROOTS)
