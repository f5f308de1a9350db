"""docker-compose.yml runs what `make run` runs.

No Docker engine is available here, so the compose file is checked as data:
every Procfile process has a compose service with the same command (bind
addresses aside), and the production-only parts are present and safe.
"""

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Procfile process -> compose service
SERVICE_FOR = {"ibsim": "ibsim", "worker": "worker", "beat": "scheduler", "web": "web"}
# Options whose value is an address that legitimately differs in a container.
ADDRESS_OPTIONS = {"-b", "--host"}


def procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, command = line.split(":", 1)
        # ${VAR:-default} -> default, as honcho's shell expands it with VAR unset.
        command = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command)
        processes[name.strip()] = shlex.split(command)
    return processes


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def normalise(argv: list[str]) -> list[str]:
    if argv[:2] == ["sh", "-c"]:
        argv = shlex.split(argv[2].split("exec ", 1)[1])
    out: list[str] = []
    skip = False
    for token in argv:
        if skip:
            out.append("<address>")
            skip = False
            continue
        out.append(token)
        skip = token in ADDRESS_OPTIONS
    return out


@pytest.mark.parametrize("process", sorted(SERVICE_FOR))
def test_compose_service_runs_the_procfile_command(process: str) -> None:
    service = compose()["services"][SERVICE_FOR[process]]

    assert normalise(service["command"]) == normalise(procfile()[process])


def test_procfile_processes_all_have_a_service() -> None:
    assert set(procfile()) == set(SERVICE_FOR)


def test_compose_has_the_production_services_and_profiles() -> None:
    services = compose()["services"]

    assert {"web", "worker", "scheduler", "redis", "postgres", "ibsim", "ib-gateway"} <= set(
        services
    )
    assert services["ibsim"]["profiles"] == ["sim"]
    assert services["ib-gateway"]["profiles"] == ["ibgateway"]
    assert services["ib-gateway"]["image"].startswith("ghcr.io/gnzsnz/ib-gateway")
    assert services["worker"]["deploy"]["replicas"] == 1


def test_every_published_port_is_bound_to_loopback() -> None:
    published = [
        port for service in compose()["services"].values() for port in service.get("ports", [])
    ]

    assert published
    assert all(str(port).startswith("127.0.0.1:") for port in published)


def test_gateway_credentials_come_from_the_environment() -> None:
    gateway_env = compose()["services"]["ib-gateway"]["environment"]

    assert gateway_env["TWS_USERID"].startswith("${")
    assert gateway_env["TWS_PASSWORD"].startswith("${")
    assert gateway_env["TRADING_MODE"] == "${TRADING_MODE:-paper}"
