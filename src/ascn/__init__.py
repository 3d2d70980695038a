"""ascn: the ASEAN Smart City Network, a city's NGSI-LD context broker and the network around it."""

__version__ = "0.1.0"
