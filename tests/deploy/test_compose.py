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


def strings(node: object) -> list[str]:
    """Every string in a parsed YAML document, keys aside."""
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [node] if isinstance(node, str) else []


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


def gateway_checks() -> dict[str, str]:
    """The ibgateway profile's env file, KEY=VALUE per line."""
    lines = (ROOT / "docker-compose.ibgateway.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_gateway_credentials_come_from_the_environment() -> None:
    gateway = compose()["services"]["ib-gateway"]
    checks = gateway_checks()

    assert gateway["env_file"] == [{"path": "docker-compose.ibgateway.env", "required": True}]
    assert checks["TWS_USERID"].startswith("${TWS_USERID:?")
    assert checks["TWS_PASSWORD"].startswith("${TWS_PASSWORD:?")
    assert gateway["environment"]["TRADING_MODE"] == "${TRADING_MODE:-paper}"


def test_only_the_secret_key_is_demanded_by_the_compose_file_itself() -> None:
    """Compose interpolates docker-compose.yml whole, whatever the profile: one
    ${VAR:?} there stops every profile (issue 11 item 7, TWS_USERID)."""
    demanded = {
        name for value in strings(compose()) for name in re.findall(r"\$\{(\w+):?\?", value)
    }

    assert demanded == {"DJANGO_SECRET_KEY"}


def test_volumes_mounted_into_the_app_image_exist_in_it_owned_by_app() -> None:
    """A named volume mounted where the image has no folder starts out owned by
    root: the simulator (user app) could not write its state to var/ibsim."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    made = [
        path for paths in re.findall(r"mkdir -p ([^&\n]+)", dockerfile) for path in paths.split()
    ]
    owned = re.findall(r"chown -R app (\S+)", dockerfile)
    mounts = [
        volume.split(":")[1]
        for service in compose()["services"].values()
        if service.get("build") == "."
        for volume in service.get("volumes", [])
    ]

    assert mounts
    for mount in mounts:
        assert any(path == mount or path.startswith(mount + "/") for path in made), mount
        assert any(mount == root or mount.startswith(root + "/") for root in owned), mount
