#!/usr/bin/env bash
# Installs the Debian packages the tests use and a fresh machine lacks: Chromium (browser tests),
# GNU Octave (the MATLAB node kind), acl (shared data folders), the PostgreSQL server (the
# multi-user JupyterHub test), PgBouncer (the connection-pooler test) and Slurm with munge (the
# single-node cluster the Slurm tests start, tests/slurm_cluster.py). Does nothing when all are
# there.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v octave >/dev/null || missing+=(octave)
command -v setfacl >/dev/null || missing+=(acl)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
[ -x /usr/sbin/slurmctld ] || missing+=(slurm-wlm)
[ -x /usr/sbin/munged ] || missing+=(munge)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing ${missing[*]} with apt-get"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
