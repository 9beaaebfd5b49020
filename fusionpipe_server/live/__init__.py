"""What keeps every lab current while the server runs: the event hub (PostgreSQL
LISTEN/NOTIFY fanned out to websockets), the watcher of node folders, and background tasks.

May import the service layer (the watcher asks the staleness service to check what changed) and
the store; handlers and the app import it.
"""
