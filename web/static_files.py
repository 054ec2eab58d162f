"""Serve our own static files and an allow-list of front-end packages' dist folders."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

ROOT = Path(__file__).resolve().parent.parent
OWN = Path(__file__).resolve().parent / "static"
NODE_MODULES = ROOT / "node_modules"

# URL name → folder inside node_modules. Only these are reachable: never all of node_modules.
VENDOR = {
    "bpmn-js": "bpmn-js/dist",
    "bpmn-js-properties-panel": "bpmn-js-properties-panel/dist",
    "properties-panel": "@bpmn-io/properties-panel/dist",
    "dmn-js": "dmn-js/dist",
    "pico": "@picocss/pico/css",
    "axe-core": "axe-core",
    "swagger-ui": "swagger-ui-dist",
}
# Packages whose folder holds more than their browser files: only these files are served.
ONLY_FILES = {"axe-core": {"axe.min.js"}, "swagger-ui": {"swagger-ui-bundle.js", "swagger-ui.css"}}


class MissingAssets(RuntimeError):
    """The front-end packages are not installed."""


def _only(folder: Path, allowed: set[str]) -> StaticFiles:
    class SomeFiles(StaticFiles):
        def lookup_path(self, path: str) -> tuple[str, object]:  # type: ignore[override]
            if path not in allowed:
                return "", None
            return super().lookup_path(path)

    return SomeFiles(directory=folder)


def mount_static(app: FastAPI, *, node_modules: Path = NODE_MODULES) -> None:
    """Mount /static/web and /static/vendor/<package>; fail when a package is missing."""
    missing = [name for name, rel in VENDOR.items() if not (node_modules / rel).is_dir()]
    if missing:
        raise MissingAssets(f"front-end packages missing ({', '.join(missing)}): run `npm ci` in {ROOT}")
    app.mount("/static/web", StaticFiles(directory=OWN), name="static-web")
    for name, rel in VENDOR.items():
        folder = node_modules / rel
        files = _only(folder, ONLY_FILES[name]) if name in ONLY_FILES else StaticFiles(directory=folder)
        app.mount(f"/static/vendor/{name}", files, name=f"vendor-{name}")
