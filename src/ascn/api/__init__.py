"""The HTTP API (NGSI-LD, clause 6) on Starlette."""
