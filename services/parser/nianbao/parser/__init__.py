"""nianbao parser: turns one fetched report page (HTML or flattened text) into the canonical record.

Entry points: :func:`nianbao.parser.extract.parse_bytes` / :func:`~nianbao.parser.extract.parse_file`,
the queue handler :func:`nianbao.parser.handlers.handle_page_fetched` and the Celery task registration in
:mod:`nianbao.parser.tasks`. Metrics live in :mod:`nianbao.parser.metrics`, which is deliberately not
imported here: a worker must set up Prometheus multiprocess mode before ``prometheus_client`` loads.
"""

PARSER_VERSION = "parser-0.1.0"
