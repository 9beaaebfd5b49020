"""Runs: the run service (plan, start, report, kill, cancel) and the engine that executes them.

``service`` is what handlers and the CLI call; ``engine`` executes runs through ``node_step``
(decide one node), ``attempts`` (try, retry, time out, take back), ``recorder`` (every fenced
write), ``running`` (what runs here), with ``placement``, ``jobs``, ``slots``, ``leases``,
``environments``; ``recovery`` takes runs back after a restart; ``history`` reads past runs.
Imports the core, the store, folders, runners and the freshness services.
"""
