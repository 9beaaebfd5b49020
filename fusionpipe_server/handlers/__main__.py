"""``python -m fusionpipe_server.handlers`` prints the OpenAPI document, for the generated
TypeScript types of the panel (``jlpm gen:api``)."""

from .openapi import main

main()
