"""The client installs on an agent's machine without the server: it imports none of it."""

import subprocess
import sys
import tomllib
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "client"
SERVER_PACKAGES = {"django", "rest_framework", "celery", "api", "config", "core", "plans",
                   "reviews", "notifications", "audit", "accounts"}


def test_the_client_depends_on_httpx_and_mcp_only():
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    assert sorted(d.split("==")[0] for d in project["dependencies"]) == ["httpx", "mcp"]
    assert project["scripts"] == {"plangate": "plangate.cli:main"}


def test_no_module_of_the_client_imports_the_server():
    modules = sorted(p.stem for p in (CLIENT / "plangate").glob("*.py") if p.stem != "__init__")
    code = ("import sys\n"
            + "".join(f"import plangate.{m}\n" for m in modules)
            + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {SERVER_PACKAGES!r}))")
    # -I: no PYTHONPATH, no current directory on sys.path (so the server's apps are not found
    # by accident from the checkout), like a pip-installed client on an agent's machine.
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          cwd=CLIENT.parent / "docs", timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert {"cli", "api", "gate", "hook", "memory", "mcp_server"} <= set(modules)
