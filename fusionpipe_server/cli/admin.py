"""Administration of a shared installation: database roles and grants, the data folder's
group permissions, and a health check. Replaces the original guide's manual SQL, chmod and
setfacl steps; every step is idempotent."""

from __future__ import annotations

import grp
import importlib.util
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

from ..errors import Invalid, Unavailable
from ..runners.commands import find_matlab
from ..store import budget, roles, schema
from ..store.database import DEFAULT_POOL_SIZE
from ..store.embedded import default_embedded_path
from .check import Check, enterable_folder
from .pooler_checks import pooling_checks
from .slurm_check import slurm_answers

USERS_ROLE = "fusionpipe_users"


def init_db(conn: psycopg.Connection, users_role: str = USERS_ROLE) -> list[str]:
    """Schema at the latest version, plus a NOLOGIN role holding the users' rights: read and
    write rows, never change the schema. Default privileges cover tables added later.
    Returns what was done, for the admin to read."""
    done = []
    applied = schema.migrate(conn)
    done.append(f"schema migrations applied: {applied}" if applied else "schema already current")
    if not roles.role_exists(conn, users_role):
        roles.create_role(conn, users_role, login=False)
        done.append(f"role {users_role} created")
    roles.grant_row_rights(conn, users_role)
    done.append(f"grants for {users_role} in place (rows only: no schema changes)")
    return done


def add_user(
    conn: psycopg.Connection, name: str, users_role: str = USERS_ROLE, password: str | None = None
) -> str:
    """A login role for ``name`` (their operating-system account, for peer authentication),
    member of the users role."""
    if not name or len(name) > 63:
        raise Invalid("the user name must have 1 to 63 characters")
    if not roles.role_exists(conn, users_role):
        raise Unavailable(f"role {users_role} does not exist: run `fusionpipe admin init-db` first")
    created = not roles.role_exists(conn, name)
    if created:
        roles.create_role(conn, name, login=True)
    if password is not None:
        roles.set_password(conn, name, password)
    roles.grant_membership(conn, users_role, name)
    return f"user {name} {'created' if created else 'already existed'}, member of {users_role}"


def init_data_dir(path: Path, group: str) -> list[str]:
    """The shared data folder: owned by ``group``, setgid folders so everything created inside
    stays in that group, group read/write, nothing for others (the folder's mode is 2770), and
    default ACLs (when ``setfacl`` exists) so files made by any member stay writable by the
    others and closed to everyone else, whatever the umask of whoever makes them."""
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise Invalid(f"there is no group {group!r}: create it first (groupadd {group})") from None
    path.mkdir(parents=True, exist_ok=True)
    done = []
    try:
        for folder, _, files in os.walk(path):
            os.chown(folder, -1, gid)
            # Group members share the folder: rwx for the group is the point here, and
            # nothing for others.
            shared = stat.S_IRWXU | stat.S_IRWXG | stat.S_ISGID
            os.chmod(folder, stat.S_IMODE(os.stat(folder).st_mode | shared) & ~stat.S_IRWXO)
            for name in files:
                target = os.path.join(folder, name)
                if not os.path.islink(target):
                    os.chown(target, -1, gid)
                    mode = os.stat(target).st_mode | stat.S_IRGRP | stat.S_IWGRP
                    os.chmod(target, stat.S_IMODE(mode) & ~stat.S_IRWXO)
    except PermissionError as err:
        raise Unavailable(
            f"cannot change the group of {err.filename}: run this as root "
            f"(sudo fusionpipe admin init-data-dir {path} --group {group})"
        ) from err
    done.append(f"{path}: group {group}, setgid folders, group read/write, nothing for others")
    setfacl = shutil.which("setfacl")
    if setfacl:
        for flags in (["-R", "-m"], ["-R", "-d", "-m"]):
            # One argument per value: the group's name never passes through a shell.
            entries = f"g:{group}:rwX,o::---"
            subprocess.run([setfacl, *flags, entries, "--", str(path)], check=True)
        done.append(
            f"default ACLs: group {group} keeps rwX on everything created inside, "
            "others get nothing whatever the umask"
        )
    else:
        done.append(
            "setfacl not found (Debian: apt install acl): relying on setgid, umask 002 and "
            "the 2770 folder, which keeps others out of everything inside"
        )
    return done


# How many paths open to others the doctor names; it counts them all.
OPEN_PATHS_SHOWN = 20


def open_to_others(data_path: Path) -> Iterator[tuple[str, int]]:
    """(path, mode) of every file and folder in the data folder, the folder included, that
    someone outside its owner and group can read, write or enter: its mode gives others a bit,
    and others can enter every folder on the way from the data folder to it (nothing under a
    folder closed to them is in their reach, so the walk does not go there: a closed data
    folder costs one ``stat``). Links are neither named (their own mode means nothing) nor
    followed. Folders the caller cannot list are passed over."""
    top = os.stat(data_path).st_mode
    if top & stat.S_IRWXO:
        yield str(data_path), top
    if not top & stat.S_IXOTH:
        return
    folders = [str(data_path)]
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    try:
                        mode = entry.stat(follow_symlinks=False).st_mode
                    except FileNotFoundError:
                        continue  # removed meanwhile
                    if stat.S_ISLNK(mode) or not mode & stat.S_IRWXO:
                        continue
                    yield entry.path, mode
                    if stat.S_ISDIR(mode) and mode & stat.S_IXOTH:
                        folders.append(entry.path)
        except (PermissionError, FileNotFoundError):
            continue


def _others_check(data_path: Path) -> Check:
    """Whether anyone outside the data folder's owner and group can read what it holds."""
    name = "data folder access"
    if not enterable_folder(data_path):  # the data folder check says why, if it is there
        return Check(name, True, "nothing to check")
    shown, count = [], 0
    for path, mode in open_to_others(data_path):
        count += 1
        if count <= OPEN_PATHS_SHOWN:
            shown.append(f"{stat.filemode(mode)} {path}")
    if not count:
        return Check(name, True, "closed to others (no path others can read)")
    folder = shlex.quote(str(data_path))
    fix = f"chmod -R o-rwx {folder}"
    if shutil.which("setfacl"):
        fix += f" && setfacl -R -d -m o::--- {folder}"
    info = data_path.stat()
    if info.st_mode & stat.S_IWGRP and info.st_mode & stat.S_ISGID:
        try:
            group = shlex.quote(grp.getgrgid(info.st_gid).gr_name)
        except KeyError:
            group = str(info.st_gid)
        fix = f"sudo fusionpipe admin init-data-dir {folder} --group {group} (or, as root: {fix})"
    more = f"\n  ... and {count - len(shown)} more" if count > len(shown) else ""
    listing = "".join(f"\n  {line}" for line in shown)
    return Check(
        name,
        True,
        f"{count} path(s) in {data_path} that others can read, write or enter; "
        f"close them with: {fix}{listing}{more}",
        warning=True,
    )


def _can_write_in(folder: Path) -> bool:
    """Tried for real: permission bits say nothing to root, nor about a read-only file system."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".fusionpipe-doctor-"):
            return True
    except OSError:
        return False


def _folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be used as a folder of one's own, or None. A folder that does not
    exist yet is fine when it can be created: the server creates it on its first start."""
    try:
        return _folder_problem_unguarded(path)
    except OSError as err:  # a folder on the way that one may not enter (mode 700 of another)
        return f"{path} cannot be reached by you: {err.strerror}"


def _folder_problem_unguarded(path: Path) -> str | None:
    if path.exists():
        if not path.is_dir():
            return f"{path} is not a folder"
        return None if _can_write_in(path) else f"{path} is not writable by you"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{path} cannot be created: {parent} is not a folder"
    if not _can_write_in(parent):
        return f"{path} cannot be created: {parent} is not writable by you"
    return None


def _data_folder_check(data_path: Path) -> Check:
    problem = _folder_problem(data_path)
    if problem:
        fix = "choose another with FUSIONPIPE_DATA_PATH, or ask the admin for one"
        return Check("data folder", False, f"{problem}: {fix}")
    if not data_path.exists():
        return Check("data folder", True, f"{data_path} (the server creates it on first start)")
    mode = data_path.stat().st_mode
    shared = bool(mode & stat.S_IWGRP and mode & stat.S_ISGID)
    return Check(
        "data folder",
        True,
        f"{data_path} writable"
        + (
            "; group-shared (setgid)"
            if shared
            else "; not group-shared (fine for one user; "
            "`fusionpipe admin init-data-dir` shares it)"
        ),
    )


def _embedded_database_check(path: Path) -> Check:
    # Its parent: the database folder itself belongs to PostgreSQL once made.
    problem = _folder_problem(path.parent)
    if problem:
        fix = "set DATABASE_URL, or FusionpipeApp.embedded_db_path to a folder of yours"
        return Check("database", False, f"embedded PostgreSQL: {problem}: {fix}")
    started = "" if path.exists() else ", created on the server's first start"
    return Check("database", True, f"embedded PostgreSQL in {path} (no DATABASE_URL){started}")


def doctor(
    dsn: str | None,
    data_path: Path,
    matlab_runner: str = "",
    embedded_path: Path | None = None,
    pool_size: int = DEFAULT_POOL_SIZE,
    events_dsn: str | None = None,
) -> list[Check]:
    """What works and, for what does not, what to do about it. Without ``dsn`` the embedded
    PostgreSQL in ``embedded_path`` is used (default: the one in the Jupyter data folder);
    with one, whether its max_connections suffices for servers of ``pool_size``, and how
    it and ``events_dsn`` (the live events' connection, when it is not ``dsn``) reach it."""
    checks = []
    if dsn is None:
        checks.append(_embedded_database_check(embedded_path or default_embedded_path()))
    else:
        try:
            # Autocommit: a pooler in statement mode refuses transactions, and the pooling
            # check below is the one to say so.
            with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                version, latest = schema.current_version(conn), schema.latest_version()
                room = budget.measure(conn, pool_size, USERS_ROLE) if version == latest else None
            checks.append(
                Check(
                    "database",
                    version == latest,
                    f"schema version {version}"
                    + (
                        ""
                        if version == latest
                        else f", this fusionpipe needs {latest}: run `fusionpipe admin migrate`"
                    ),
                )
            )
            shared, pooled = pooling_checks(dsn, events_dsn)
            # Behind a pooler that shares backends the pools do not count against
            # max_connections: the pooling check says what does.
            if room is not None and shared is None:
                checks.append(Check("connections", True, room.describe(), warning=not room.enough))
            checks.extend(pooled)
        except psycopg.Error as err:
            checks.append(Check("database", False, f"cannot connect ({err}): check DATABASE_URL"))
    checks.append(_data_folder_check(data_path))
    checks.append(_others_check(data_path))
    uv = shutil.which("uv") or importlib.util.find_spec("uv")
    checks.append(Check("uv", bool(uv), "found" if uv else "missing: pip install uv"))
    ray = importlib.util.find_spec("ray")
    checks.append(
        Check(
            "ray",
            True,
            "installed"
            if ray
            else "not installed (only needed for run_mode: ray): pip install 'ray>=2.40'",
        )
    )
    checks.append(Check("slurm", *slurm_answers(data_path)))
    try:
        checks.append(Check("matlab", True, f"{find_matlab(matlab_runner)}"))
    except Unavailable:
        checks.append(
            Check(
                "matlab",
                True,
                "no MATLAB or Octave (only needed for matlab nodes): "
                "set FP_MATLAB_RUNNER_PATH or apt install octave",
            )
        )
    return checks
