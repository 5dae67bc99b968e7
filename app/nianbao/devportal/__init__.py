"""A local, TRS-style government portal serving synthetic annual reports, for demos and tests.

``nianbao.devportal.server.DevPortal`` runs it on 127.0.0.1; ``nianbao.devportal.catalogue.REPORTS`` holds
the reports it serves together with the ground truth a correct parser and validator must reproduce.
Run it in the foreground with ``python -m nianbao.devportal --port 8000``.
"""
