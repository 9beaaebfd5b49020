"""A shared server for real: JupyterHub (local process spawner, configurable-http-proxy), two
local users, one PostgreSQL cluster (Debian's, peer authentication) and one shared data folder.

User A creates a pipeline and runs it; user B sees it with A as owner and receives its status
changes live; B's node runs as B. B may run A's pipeline but not delete or lock it (PostgreSQL,
to which each connects as their own role, refuses it too); A deletes it and restores it from the
trash.
A third account outside the group reads nothing of theirs (#25).
"""

from __future__ import annotations

import asyncio
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import tomllib
from jupyter_process import free_port
from pg_cluster import Cluster, sh
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from fusionpipe_server.cli import admin

ROOT = Path(__file__).resolve().parent.parent
USERS = ("fpalice", "fpbob")
GROUP = "fpusers"
# An account of the same machine outside the group: it must read nothing of the data folder.
OUTSIDER = "fpeve"
TOKEN = secrets.token_hex(16)


def hub_environment(base: Path) -> Path:
    """A virtual environment any user can run (Debian's Python, world-readable), with
    JupyterHub, fusionpipe's dependencies and this checkout of fusionpipe."""
    venv = base / "venv"
    sh("/usr/bin/python3", "-m", "venv", venv)
    # fusionpipe's own dependencies, from the one place they are listed.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    sh(venv / "bin" / "pip", "install", "-q", "jupyterhub>=5", *project["dependencies"])
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "fusionpipe-checkout.pth").write_text(f"{ROOT}\n")
    config = venv / "etc" / "jupyter" / "jupyter_server_config.d"
    config.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "jupyter-config" / "server-config" / "fusionpipe_server.json", config)
    return venv


def proxy(base: Path) -> Path:
    sh("npm", "install", "--silent", "--prefix", base / "chp", "configurable-http-proxy@5")
    return base / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"


def ensure_users():
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        sh("groupadd", GROUP)
    for user in USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            sh("useradd", "--create-home", "--groups", GROUP, user)
    try:
        pwd.getpwnam(OUTSIDER)
    except KeyError:
        sh("useradd", "--create-home", OUTSIDER)
    assert OUTSIDER not in grp.getgrnam(GROUP).gr_mem, f"{OUTSIDER} must stay outside {GROUP}"


@pytest.fixture(scope="module")
def hub():
    assert os.geteuid() == 0, "the multi-user test creates local users: it runs as root in CI"
    base = Path(tempfile.mkdtemp(prefix="fusionpipe-hub-"))
    base.chmod(0o755)
    venv = hub_environment(base)
    ensure_users()
    cluster = Cluster(base)
    fusionpipe = [str(venv / "bin" / "python"), "-m", "fusionpipe_server.cli", "admin"]
    sh(*fusionpipe, "init-db", "--database-url", cluster.dsn, user="postgres")
    for user in USERS:
        sh(*fusionpipe, "add-user", user, "--database-url", cluster.dsn, user="postgres")
    data = base / "data"
    sh(*fusionpipe, "init-data-dir", data, "--group", GROUP)

    port, hub_port, api_port = free_port(), free_port(), free_port()
    config = base / "jupyterhub_config.py"
    config.write_text(f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{str(proxy(base))!r}]
c.JupyterHub.db_url = "sqlite:///{base / "hub.sqlite"}"
c.JupyterHub.cookie_secret_file = "{base / "cookie_secret"}"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {set(USERS)!r}
c.JupyterHub.services = [{{"name": "tester", "api_token": {TOKEN!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "tester",
    "scopes": ["admin:users", "admin:servers", "access:servers", "read:users", "tokens"],
    "services": ["tester"],
}}]
c.Spawner.cmd = [{str(venv / "bin" / "jupyterhub-singleuser")!r}]
c.Spawner.environment = {{"DATABASE_URL": {cluster.dsn!r}, "FUSIONPIPE_DATA_PATH": {str(data)!r}}}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
""")
    log = (base / "hub.log").open("wb")
    process = subprocess.Popen(
        [venv / "bin" / "jupyterhub", "-f", config],
        cwd=base,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"},
    )
    hub = Hub(port, base)
    try:
        hub.wait_ready(process)
        for user in USERS:
            hub.start_server(user)
        yield hub
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            # A single-user server can take the spawner's whole interrupt, terminate and kill
            # sequence to exit (a worker thread left at interpreter exit): nearly a minute.
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            log.close()
            cluster.stop()
            shutil.rmtree(base, ignore_errors=True)


class Hub:
    def __init__(self, port: int, base: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.base = base
        self.tokens: dict[str, str] = {}

    def call(self, method, path, body=None, token=TOKEN):
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return json.loads(text) if text else None

    def api(self, user, method, path, body=None):
        """A request to ``user``'s own server, with ``user``'s own token: as that user."""
        return self.call(method, f"/user/{user}/fusionpipe/api/{path}", body, self.tokens[user])

    def refused(self, user, method, path, body=None):
        """(status, message) of a request the server must refuse."""
        try:
            self.api(user, method, path, body)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())["message"]
        raise AssertionError(f"{method} {path} as {user} was not refused")

    def wait_ready(self, process):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, (self.base / "hub.log").read_text()
            try:
                self.call("GET", "/hub/api/")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise AssertionError((self.base / "hub.log").read_text())

    def start_server(self, user):
        created = self.call("POST", f"/hub/api/users/{user}/tokens", {"note": "test"})
        self.tokens[user] = created["token"]
        self.call("POST", f"/hub/api/users/{user}/server")
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.call("GET", f"/hub/api/users/{user}")["servers"].get("", {}).get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError((self.base / "hub.log").read_text())


WHOAMI = (
    "import getpass, fusionpipe\n(fusionpipe.data_dir() / 'who').write_text(getpass.getuser())\n"
)


def wait_run(hub, user, run_id):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = hub.api(user, "GET", f"runs/{run_id}")
        if run["status"] in ("completed", "failed", "cancelled"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


async def events_of(hub, user, until_status, node_id, connected=None, timeout=120):
    request = HTTPRequest(
        f"ws{hub.url[4:]}/user/{user}/fusionpipe/api/events",
        headers={"Authorization": f"token {hub.tokens[user]}"},
    )
    socket = await websocket_connect(request)
    if connected is not None:
        connected.set()
    seen = []
    try:
        while True:
            event = json.loads(await asyncio.wait_for(socket.read_message(), timeout))
            if event.get("node_id") == node_id and event["event"] == "node.status":
                seen.append(event["status"])
                if event["status"] == until_status:
                    return seen
    finally:
        socket.close()


def test_two_users_share_pipelines_live_and_run_as_themselves(hub):
    alice, bob = USERS
    project = hub.api(alice, "POST", "projects", {"tag": "shared"})
    pipeline = hub.api(alice, "POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    node = hub.api(alice, "POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "by-alice"})
    Path(node["folder"], "code", "main.py").write_text(WHOAMI)  # as root: the test's own edit
    shutil.chown(Path(node["folder"], "code", "main.py"), alice, GROUP)

    seen = {n["id"]: n for n in hub.api(bob, "GET", f"pipelines/{pipeline['id']}")["nodes"]}
    assert seen[node["id"]]["owner"] == alice
    assert hub.api(bob, "GET", f"projects/{project['id']}")["owner"] == alice

    async def run_and_watch():
        connected = asyncio.Event()
        watcher = asyncio.ensure_future(events_of(hub, bob, "completed", node["id"], connected))
        await asyncio.wait_for(connected.wait(), 60)  # bob listens before alice starts
        run = await asyncio.to_thread(
            hub.api, alice, "POST", f"pipelines/{pipeline['id']}/runs", {}
        )
        return run, await watcher

    run, statuses = asyncio.run(run_and_watch())
    assert statuses == ["running", "completed"], "bob saw alice's node run, live"
    assert wait_run(hub, alice, run["id"])["requested_by"] == alice
    assert Path(node["folder"], "data", "who").read_text() == alice

    mine = hub.api(bob, "POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "by-bob"})
    assert mine["owner"] == bob
    # Code of its own: with alice's code the node would take her outputs from the cache
    # (same fingerprint) instead of running.
    Path(mine["folder"], "code", "main.py").write_text(WHOAMI + "# bob's node\n")
    shutil.chown(Path(mine["folder"], "code", "main.py"), bob, GROUP)
    run = hub.api(bob, "POST", f"pipelines/{pipeline['id']}/runs", {"node_ids": [mine["id"]]})
    assert wait_run(hub, bob, run["id"])["status"] == "completed"
    assert Path(mine["folder"], "data", "who").read_text() == bob
    assert Path(mine["folder"]).stat().st_uid == pwd.getpwnam(bob).pw_uid

    # Per-owner rights: bob may run alice's pipeline but not delete, lock or move it; his
    # server asks PostgreSQL as his own role, whose row-level security says the same.
    url = f"pipelines/{pipeline['id']}"
    status, message = hub.refused(bob, "DELETE", url)
    assert status == 403
    assert (
        message
        == f"only {alice} (the owner) or an admin may delete pipeline 'p' ({pipeline['id']})"
    )
    assert hub.refused(bob, "PATCH", url, {"locked": True})[0] == 403
    run = hub.api(bob, "POST", f"{url}/runs", {})
    assert wait_run(hub, bob, run["id"])["status"] == "completed"
    assert hub.api(bob, "GET", url)["locked"] is False

    # alice deletes it (bob's node in it too: hers is the pipeline), then restores it from
    # the trash: rows and folders come back, outputs included.
    hub.api(alice, "DELETE", url)
    assert not Path(node["folder"]).exists() and not Path(mine["folder"]).exists()
    (item,) = hub.api(alice, "GET", "trash")["items"]
    assert (item["kind"], item["item_id"], item["deleted_by"]) == (
        "pipeline",
        pipeline["id"],
        alice,
    )
    assert hub.api(bob, "GET", "trash")["items"] == [], "bob neither deleted nor owns it"
    assert hub.refused(bob, "POST", f"trash/{item['id']}/restore")[0] == 403
    hub.api(alice, "POST", f"trash/{item['id']}/restore")
    graph = hub.api(bob, "GET", url)
    assert sorted(n["tag"] for n in graph["nodes"]) == ["by-alice", "by-bob"]
    assert Path(node["folder"], "data", "who").read_text() == alice
    assert Path(mine["folder"], "data", "who").read_text() == bob
    assert hub.api(alice, "GET", "trash")["items"] == []


def test_a_lock_across_users_tells_the_truth(hub):
    alice, bob = USERS
    project = hub.api(alice, "POST", "projects", {"tag": "locks"})
    pipeline = hub.api(alice, "POST", "pipelines", {"project_id": project["id"], "tag": "locks"})
    node = hub.api(alice, "POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "mixed"})
    folder = Path(node["folder"])
    # bob saves a file in alice's node, as the shared data folder lets him.
    theirs = folder / "code" / "by_bob.py"
    theirs.write_text("print('bob')\n")
    shutil.chown(theirs, bob, GROUP)
    theirs.chmod(0o664)
    mine = folder / "code" / "zz_after.py"  # after bob's file in the sweep's order
    mine.write_text("print('alice')\n")
    shutil.chown(mine, alice, GROUP)

    path = f"pipelines/{pipeline['id']}/nodes/{node['id']}"
    answer = hub.api(alice, "PATCH", path, {"locked": True})
    assert answer["locked"] is True
    (warning,) = answer["warnings"]
    assert bob in warning and "1 file(s)" in warning
    # The sweep went on past bob's file: alice's own files are read-only, his kept his mode.
    assert not stat.S_IMODE(mine.stat().st_mode) & 0o222
    assert not stat.S_IMODE((folder / "code" / "main.py").stat().st_mode) & 0o222
    assert stat.S_IMODE(theirs.stat().st_mode) == 0o664
    # What is enforced is the database lock: bob can neither run nor rename the node.
    run = hub.api(bob, "POST", f"pipelines/{pipeline['id']}/runs", {"node_ids": [node["id"]]})
    (entry,) = run["nodes"]
    assert entry["status"] == "skipped" and entry["reason"] == "locked"
    with pytest.raises(urllib.error.HTTPError) as refused:
        hub.api(bob, "PATCH", path, {"tag": "renamed"})
    assert refused.value.code == 409
    assert "locked" in json.loads(refused.value.read())["message"]

    answer = hub.api(alice, "PATCH", path, {"locked": False})
    assert answer["locked"] is False
    assert stat.S_IMODE(mine.stat().st_mode) & 0o200


# Node code that writes as permissively as it can: umask 000, and one output it opens to all
# itself. Only the folders above it keep others out then.
PERMISSIVE = """
import os, fusionpipe
os.umask(0)
print("a line of the node's log")
(fusionpipe.data_dir() / "open.txt").write_text("secret")
(fusionpipe.data_dir() / "sub").mkdir()
(fusionpipe.data_dir() / "sub" / "deep.txt").write_text("secret")
opened = fusionpipe.data_dir() / "chmodded.txt"
opened.write_text("secret")
opened.chmod(0o644)
"""


def as_user(user, *argv):
    return subprocess.run(
        ["runuser", "-u", user, "--", *map(str, argv)], capture_output=True, text=True, check=False
    )


def test_an_account_outside_the_group_reads_nothing(hub):
    """fpeve, on the same machine but outside the group, can neither list the data folder
    nor read a node's code, outputs or logs, even those a node wrote under umask 000 or opened
    to all itself; fpbob, in the group, can."""
    alice, bob = USERS
    project = hub.api(alice, "POST", "projects", {"tag": "private"})
    pipeline = hub.api(alice, "POST", "pipelines", {"project_id": project["id"], "tag": "priv"})
    node = hub.api(alice, "POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "secret"})
    folder = Path(node["folder"])
    data = folder.parent.parent
    code = folder / "code" / "main.py"
    code.write_text(PERMISSIVE)  # as root: the test's own edit
    shutil.chown(code, alice, GROUP)
    run = hub.api(alice, "POST", f"pipelines/{pipeline['id']}/runs", {})
    assert wait_run(hub, alice, run["id"])["status"] == "completed"
    (log,) = (folder / "logs").glob("*.log")
    outputs = [folder / "data" / name for name in ("open.txt", "chmodded.txt", "sub/deep.txt")]
    assert stat.S_IMODE((folder / "data" / "chmodded.txt").stat().st_mode) == 0o644
    # The default ACL of init-data-dir beat the node's umask 000 (not its own chmod).
    for path in (folder / "data" / "open.txt", folder / "data" / "sub", outputs[2]):
        assert not path.stat().st_mode & stat.S_IRWXO, path
    readable = [code, log, *outputs]

    def refused(user):
        """What ``user`` was refused: every listing and every read, or a message saying what
        got through."""
        listed = [as_user(user, "ls", path) for path in (data, folder.parent, folder)]
        read = [as_user(user, "cat", path) for path in readable]
        return [
            result.args[-1]
            for result in (*listed, *read)
            if result.returncode != 0 and "Permission denied" in result.stderr
        ]

    everything = [str(data), str(folder.parent), str(folder), *map(str, readable)]
    assert refused(OUTSIDER) == everything
    assert as_user(OUTSIDER, "test", "-e", data / project["id"]).returncode == 1
    assert refused(bob) == [], "the group reads all of it: the refusals are not an accident"
    assert as_user(bob, "cat", folder / "data" / "sub" / "deep.txt").stdout == "secret"

    # Were the data folder opened to others by mistake, its project and node folders would
    # still keep them out.
    mode = stat.S_IMODE(data.stat().st_mode)
    data.chmod(mode | 0o005)
    try:
        assert as_user(OUTSIDER, "ls", data).returncode == 0
        assert refused(OUTSIDER) == everything[1:]
        # What the doctor names: the data folder alone, as nothing inside is open.
        assert [path for path, _ in admin.open_to_others(data)] == [str(data)]
    finally:
        data.chmod(mode)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
