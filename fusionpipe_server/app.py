"""The jupyter_server extension: settings, handler table, start and stop hooks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Enum, Float, Integer, List, Type, Unicode, default

from .errors import Unavailable
from .folders import kernels, lab_paths, leftovers
from .handlers import handlers
from .live.background import cancel
from .live.hub import EventHub
from .live.watching import CONTENTS_EVENTS, ChangeWatcher
from .runners.gpus import detect_gpus
from .runners.registry import Runners, build
from .service import Service, Settings
from .store import connecting, pooling
from .store.database import DEFAULT_POOL_SIZE, WAIT_SECONDS, CannotConnect, Database
from .store.embedded import EmbeddedPostgres, default_embedded_path, prepare_database

# jupyter_server counts every setting ending in _last_activity in its last activity.
ACTIVITY_KEY = "fusionpipe_last_activity"
ACTIVITY_SECONDS = 5.0
# The most one step of stopping the extension may take (see FusionpipeApp._stop_step).
STOP_STEP_SECONDS = 15
# How long the start hook waits for the pool's first connection before it lets the server
# serve the lab and goes on trying in the background.
FIRST_OPEN_SECONDS = 10


class FusionpipeApp(ExtensionApp):
    """fusionpipe: pipelines of nodes, drawn and run inside JupyterLab."""

    name = "fusionpipe"
    load_other_extensions = True

    database_url = Unicode(
        help="""PostgreSQL database (libpq keyword DSN or URI). Empty: an embedded PostgreSQL
        started on demand in `embedded_db_path`. Defaults to $DATABASE_URL.""",
    ).tag(config=True)

    db_pool_size = Integer(
        help=f"""The most database connections this server holds at once (its pool; it holds
        one more, for live events, and closes pooled connections idle for a minute). Every
        user's server takes this share of PostgreSQL's max_connections: see the admin guide's
        sizing table. Defaults to $FUSIONPIPE_DB_POOL_SIZE, else {DEFAULT_POOL_SIZE}.""",
    ).tag(config=True)

    db_wait_seconds = Float(
        help=f"""How long a request waits for a free connection of the pool before it answers
        503 (busy, with Retry-After). Defaults to $FUSIONPIPE_DB_WAIT_SECONDS, else
        {WAIT_SECONDS:g}.""",
    ).tag(config=True)

    events_database_url = Unicode(
        help="""PostgreSQL database of the connection that LISTENs for live events, when
        database_url goes through a pooler in transaction mode (PgBouncer), where LISTEN does
        not work: the same database, reached directly. Empty: database_url (and with the
        embedded database, always that one). Defaults to $FUSIONPIPE_EVENTS_DATABASE_URL.""",
    ).tag(config=True)

    embedded_db_path = Unicode(
        help="""Folder of the embedded PostgreSQL used when no database_url is given.
        Defaults to fusionpipe/postgres in the user's Jupyter data folder.""",
    ).tag(config=True)

    data_path = Unicode(
        help="""Folder holding every node folder (<data_path>/<project_id>/<node_id>).
        Defaults to $FUSIONPIPE_DATA_PATH, else a fusionpipe-data folder in the server's root.""",
    ).tag(config=True)

    data_link = Unicode(
        "fusionpipe-data",
        help="""When the data folder lies outside the server's root directory, a symbolic link
        of this name is made in the root so that the file browser (Open folder, Open notebook)
        reaches node folders. An existing file or folder of that name is never replaced.
        Empty: no link.""",
    ).tag(config=True)

    matlab_runner_path = Unicode(
        help="""MATLAB executable for matlab nodes. Defaults to $FP_MATLAB_RUNNER_PATH, else
        `matlab` or `octave` found on PATH.""",
    ).tag(config=True)

    uv_cache_dir = Unicode(
        help="Cache shared by the uv builds of node environments. Defaults to $UV_CACHE_DIR.",
    ).tag(config=True)

    ray_address = Unicode(
        help="""Ray cluster for nodes with run_mode: ray. Empty: a local Ray started on first
        use. Defaults to $RAY_ADDRESS.""",
    ).tag(config=True)

    ray_auth_token_path = Unicode(
        help="""File holding the token of the Ray cluster at ray_address, when the cluster
        uses token authentication (Ray's default): `ray start --head` writes it to
        ~/.ray/auth_token of whoever started the cluster, where other users' servers do not
        look. Defaults to $RAY_AUTH_TOKEN_PATH.""",
    ).tag(config=True)

    default_run_mode = Enum(
        ["local", "ray", "slurm"],
        "local",
        help="""Backend of nodes whose node_parameters.yaml names no run_mode: local, ray or
        slurm.""",
    ).tag(config=True)

    max_parallel_nodes = Integer(
        help="""CPU slots of local runs: how many independent nodes may run at once, a node
        holding as many as its resources.cpus (1 by default). Defaults to the number of
        CPUs.""",
    ).tag(config=True)

    local_gpus = Integer(
        None,
        allow_none=True,
        help="""How many GPUs local runs hand out (GPU 0 to N-1, one node at a time each, in
        CUDA_VISIBLE_DEVICES). Default: the server's CUDA_VISIBLE_DEVICES if set, else the
        GPUs `nvidia-smi -L` lists, else none.""",
    ).tag(config=True)

    runner_class = Type(
        default_value="fusionpipe_server.runners.local.LocalRunner",
        klass=object,
        help="""The runner of run_mode: local nodes: a class with `name`, `local`,
        `start(job)` and `take_back(pid, log_path)` (see fusionpipe_server/runners/base.py),
        such as a batch scheduler's. A traitlets Configurable subclass gets this application
        as its parent, so its own settings come from the same configuration.""",
    ).tag(config=True)

    ray_runner_class = Type(
        default_value="fusionpipe_server.runners.ray.RayRunner",
        klass=object,
        help="""The runner of run_mode: ray nodes, made as runner_class is (a class method
        `from_settings(settings)`, if it has one, makes it from the server's settings).""",
    ).tag(config=True)

    slurm_runner_class = Type(
        default_value="fusionpipe_server.runners.slurm.SlurmRunner",
        klass=object,
        help="""The runner of run_mode: slurm nodes, made as runner_class is. The default one
        has its own settings: SlurmRunner.partition, .account, .qos, .options, .setup,
        .max_running, .poll_seconds (see the admin guide).""",
    ).tag(config=True)

    output_cache_bytes = Integer(
        20 * 2**30,
        help="""Size limit of the output cache (outputs a re-run replaced, kept to be restored
        when a node's fingerprint matches again), in bytes. The oldest go first; outputs of
        locked nodes and pipelines are never evicted. 0 keeps nothing.""",
    ).tag(config=True)

    max_items = Integer(
        100_000,
        help="""The most items a mapped node may have (map: in node_parameters.yaml): a
        declaration that gives more is refused, naming map and the count.""",
    ).tag(config=True)

    max_watched_folders = Integer(
        4000,
        help="""How many node folders (code/ and its sub-folders, the top of data/) of open
        pipelines are watched for changes with inotify; the periodic scan covers the rest.""",
    ).tag(config=True)

    staleness_scan_interval = Float(
        10.0,
        help="""Seconds between periodic staleness scans of open pipelines: they catch what
        watching cannot see, such as writes from other hosts on a network file system. A scan
        waits at least twenty times what the last one took (5% of the server's time).""",
    ).tag(config=True)

    runs_outlive_server = Bool(
        True,
        help="""Local node processes go on when this server stops, is culled or crashes; the
        next server of the same user on this host takes their runs back and finishes them.
        False: stopping the server kills its runs.""",
    ).tag(config=True)

    run_lease_seconds = Float(
        60.0,
        help="""Seconds a run stays this server's without the server renewing its hold (it
        renews every third of that while it works). A server that could not renew, say during
        a database outage, may see a server started meanwhile take its runs back; from then on
        its writes for those runs are refused.""",
    ).tag(config=True)

    keep_active_while_running = Bool(
        True,
        help="""While this server executes a run, report it as active (jupyter_server's
        last-activity hook), so that JupyterHub's idle culler leaves it alone.""",
    ).tag(config=True)

    admins = List(
        Unicode(),
        help="""User names that may delete, move, lock and unlock what others own, and see and
        restore everyone's trash. Kept in the database too (its row-level security asks it): a
        server that may write it there (the embedded database, or one connecting as the
        database's owner) makes it so at start; on a shared database the administrator runs
        `fusionpipe admin admins set NAME...`, and the database's list is the one enforced.""",
    ).tag(config=True)

    trash_days = Float(
        30.0,
        help="""Days deleted projects, pipelines and nodes stay in the trash, to be restored,
        before they are purged for good (rows and folders). 0 purges them at the next
        periodic purge.""",
    ).tag(config=True)

    trash_purge_interval = Float(
        3600.0,
        help="Seconds between two purges of what has been in the trash longer than trash_days.",
    ).tag(config=True)

    def _make_runners(self, settings: Settings) -> Runners:
        """The runner of each run mode, from its class setting; ``Unavailable`` when a
        configured class is not a runner."""
        return Runners(
            {
                "local": build(self.runner_class, "runner_class", settings, parent=self),
                "ray": build(self.ray_runner_class, "ray_runner_class", settings, parent=self),
                "slurm": build(
                    self.slurm_runner_class, "slurm_runner_class", settings, parent=self
                ),
            }
        )

    @default("database_url")
    def _default_database_url(self) -> str:
        return os.environ.get("DATABASE_URL", "")

    @default("db_pool_size")
    def _default_db_pool_size(self) -> int:
        return int(os.environ.get("FUSIONPIPE_DB_POOL_SIZE") or DEFAULT_POOL_SIZE)

    @default("db_wait_seconds")
    def _default_db_wait_seconds(self) -> float:
        return float(os.environ.get("FUSIONPIPE_DB_WAIT_SECONDS") or WAIT_SECONDS)

    @default("events_database_url")
    def _default_events_database_url(self) -> str:
        return os.environ.get("FUSIONPIPE_EVENTS_DATABASE_URL", "")

    @default("embedded_db_path")
    def _default_embedded_db_path(self) -> str:
        return str(default_embedded_path())

    @default("data_path")
    def _default_data_path(self) -> str:
        root = self.serverapp.root_dir if self.serverapp else os.getcwd()
        return os.environ.get("FUSIONPIPE_DATA_PATH") or str(Path(root) / "fusionpipe-data")

    @default("matlab_runner_path")
    def _default_matlab_runner_path(self) -> str:
        return os.environ.get("FP_MATLAB_RUNNER_PATH", "")

    @default("uv_cache_dir")
    def _default_uv_cache_dir(self) -> str:
        return os.environ.get("UV_CACHE_DIR", "")

    @default("ray_address")
    def _default_ray_address(self) -> str:
        return os.environ.get("RAY_ADDRESS", "")

    @default("ray_auth_token_path")
    def _default_ray_auth_token_path(self) -> str:
        return os.environ.get("RAY_AUTH_TOKEN_PATH", "")

    @default("max_parallel_nodes")
    def _default_max_parallel_nodes(self) -> int:
        return os.cpu_count() or 1

    _embedded: EmbeddedPostgres | None = None
    _database: Database | None = None
    _events: EventHub | None = None
    _service: Service | None = None
    _watcher: ChangeWatcher | None = None
    _keeping_active: asyncio.Task[None] | None = None
    _sweeping: asyncio.Future[None] | None = None
    _connecting: asyncio.Task[None] | None = None
    # A configured database that gave no connection while the server loaded: its schema is
    # checked once it does (see connecting.py).
    _unchecked = False

    def initialize_settings(self) -> None:
        # The runner and the database are made ready while the server loads, not in the start
        # hook: a server without them is useless, and jupyter_server only logs errors raised
        # by start hooks, so this is the one place where "refuse to start" can really refuse.
        assert self.serverapp is not None
        try:
            reach = self._prepare_database()
            settings = self.service_settings(
                lab_data_prefix=lab_paths.link_data_folder(
                    Path(self.serverapp.root_dir), self.resolved_data_path, self.data_link
                )
            )
            runners = self._make_runners(settings)
        except Unavailable as err:
            self.log.critical("fusionpipe: %s", err.message)
            self._stop_embedded()
            sys.exit(1)
        # A server that owns the embedded database starts it again if it dies.
        restart = self._embedded.ensure_running if self._embedded is not None else None
        self._database = self.database(reach, restart=restart)
        self._events = EventHub(reach.events_dsn)
        self._service = Service(self._database, settings, runners)
        self._service.staleness.scan_interval = self.staleness_scan_interval
        self._service.trash.purge_interval = self.trash_purge_interval
        self._watcher = ChangeWatcher(
            self._database,
            settings.data_path,
            self._service.staleness,
            root_dir=Path(self.serverapp.root_dir).resolve(),
            max_folders=self.max_watched_folders,
            environments=self._service.environments,
        )
        # Node kernels are kernel specs in the shared data folder: add it to where this server
        # looks for kernels, so every node's kernel can be picked with no install step.
        node_kernels = str(kernels.kernels_dir(settings.data_path))
        assert self.serverapp.kernel_spec_manager is not None
        kernel_dirs = self.serverapp.kernel_spec_manager.kernel_dirs
        if node_kernels not in kernel_dirs:
            kernel_dirs.append(node_kernels)
        self.settings.update(
            {
                "fusionpipe_service": self._service,
                "fusionpipe_events": self._events,
                "fusionpipe_watcher": self._watcher,
            }
        )
        self.log.info("fusionpipe: data folder %s", settings.data_path)

    @property
    def resolved_data_path(self) -> Path:
        return Path(self.data_path).expanduser().resolve()

    def service_settings(self, lab_data_prefix: str | None = None) -> Settings:
        """What the services need to know, from these settings: the one place where the
        server and the ``fusionpipe`` command turn them into ``Settings``."""
        return Settings(
            data_path=self.resolved_data_path,
            lab_data_prefix=lab_data_prefix,
            max_parallel_nodes=self.max_parallel_nodes,
            matlab_runner_path=self.matlab_runner_path,
            ray_address=self.ray_address,
            ray_auth_token_path=self.ray_auth_token_path,
            uv_cache_dir=self.uv_cache_dir,
            default_run_mode=self.default_run_mode,
            output_cache_bytes=self.output_cache_bytes,
            max_items=self.max_items,
            runs_outlive_server=self.runs_outlive_server,
            run_lease_seconds=self.run_lease_seconds,
            admins=frozenset(self.admins),
            trash_days=self.trash_days,
            local_gpus=tuple(
                detect_gpus() if self.local_gpus is None else map(str, range(self.local_gpus))
            ),
        )

    def database(
        self, reach: pooling.Connections, restart: Callable[[], None] | None = None
    ) -> Database:
        """The pool of these settings, for the server and the ``fusionpipe`` command."""
        return Database(
            reach.dsn,
            max_size=self.db_pool_size,
            wait_seconds=self.db_wait_seconds,
            restart=restart,
            prepare_statements=reach.prepare,
        )

    def connections(self, dsn: str, embedded: bool) -> pooling.Connections:
        """Where the pool and the live events go, ``dsn`` being the checked database URL."""
        return pooling.connections(dsn, self.events_database_url, embedded=embedded)

    def _prepare_database(self) -> pooling.Connections:
        try:
            dsn, self._embedded = prepare_database(self.database_url, Path(self.embedded_db_path))
        except CannotConnect as err:
            if not self.database_url:
                raise
            # Busy or down now, maybe back in a minute: the server starts anyway (see the
            # start hook) rather than leave its user without a lab.
            self.log.warning("fusionpipe: %s; serving the lab and retrying", err.message)
            self._unchecked = True
            return pooling.unprobed(self.database_url, self.events_database_url)
        where = (
            f"embedded PostgreSQL in {self.embedded_db_path}" if self._embedded else "DATABASE_URL"
        )
        reach = self.connections(dsn, embedded=self._embedded is not None)
        how = (
            f"through a pooler in {reach.shared.value} mode"
            if reach.shared
            else "directly (or pooled per session)"
        )
        self.log.info("fusionpipe: using the database at %s, reached %s", where, how)
        return reach

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def _start_jupyter_server_extension(self, serverapp: object) -> None:
        assert self._database is not None
        if not self._unchecked:
            with contextlib.suppress(Unavailable):
                await self._database.open(timeout=FIRST_OPEN_SECONDS)
        if self._database.opened:
            await self._start_services()
        else:
            self._connecting = asyncio.create_task(self._connect_then_start())

    async def _connect_then_start(self) -> None:
        assert self._database is not None
        await connecting.connect(self._database, self.log)
        try:
            await self._start_services()
        except Exception:  # a task's failure is otherwise never seen
            self.log.exception("fusionpipe: starting on the database failed")

    async def _start_services(self) -> None:
        """What needs the database, started once it gives a connection."""
        assert self._database is not None and self._events is not None
        assert self._service is not None
        await self._service.rights.load(self._database, self.admins)
        await self._events.start()
        self._events.subscribe(self._service.runs.on_event)
        await self._service.staleness.start()
        await self._service.trash.start()
        assert self._watcher is not None and self.serverapp is not None
        await self._watcher.start()
        if self.serverapp.event_logger is not None:
            self.serverapp.event_logger.add_listener(
                schema_id=CONTENTS_EVENTS, listener=self._watcher.on_contents_event
            )
        recovered = await self._service.runs.reconcile()
        if recovered:
            self.log.warning(
                "fusionpipe: %d node(s) left running were marked failed", len(recovered)
            )
        if self.keep_active_while_running:
            self._keeping_active = asyncio.create_task(self._report_activity())
        # In the background: a large data folder must not delay the server's start.
        self._sweeping = asyncio.get_running_loop().run_in_executor(None, self._sweep_leftovers)

    async def _report_activity(self) -> None:
        """While runs go on, tell jupyter_server (and through it JupyterHub) this server is
        busy: a two-day job must not be culled as idle."""
        assert self._service is not None and self.serverapp is not None
        while True:
            if self._service.runs.busy:
                self.serverapp.web_app.settings[ACTIVITY_KEY] = datetime.now(timezone.utc)
            await asyncio.sleep(ACTIVITY_SECONDS)

    def _sweep_leftovers(self) -> None:
        assert self._service is not None
        removed = leftovers.sweep(self._service.settings.data_path)
        if removed:
            self.log.info(
                "fusionpipe: removed %d leftover(s) of interrupted operations", len(removed)
            )

    async def stop_extension(self) -> None:
        await self._stop_step("connecting to the database", cancel(self._connecting))
        await self._stop_step("the activity reporter", cancel(self._keeping_active))
        if self._sweeping is not None:
            await self._stop_step("the leftovers sweep", self._sweeping)
            self._sweeping = None
        if self._watcher is not None:
            await self._stop_step("the file watcher", self._watcher.stop())
        if self._service is not None:
            await self._stop_step("the runs", self._service.runs.shutdown())
            await self._stop_step("the staleness worker", self._service.staleness.stop())
            await self._stop_step("environment builds", self._service.environments.stop())
            await self._stop_step("the trash purger", self._service.trash.stop())
        if self._events is not None:
            await self._stop_step("the events listener", self._events.stop())
            self._events = None
        if self._database is not None:
            await self._stop_step("the database pool", self._database.close())
            self._database = None
        self._stop_embedded()

    async def _stop_step(self, what: str, step: Awaitable[object]) -> None:
        """One step of stopping, bounded: a step that hangs must not keep the server (and the
        embedded database) from stopping; the log names it."""
        try:
            await asyncio.wait_for(step, STOP_STEP_SECONDS)
        except asyncio.TimeoutError:
            self.log.warning("fusionpipe: %s did not stop within %d s", what, STOP_STEP_SECONDS)
        except Exception:
            self.log.exception("fusionpipe: stopping %s failed", what)

    def _stop_embedded(self) -> None:
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
