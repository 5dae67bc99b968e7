"""``python -m nianbao.devportal``: run the demo portal in the foreground until Ctrl+C."""

from __future__ import annotations

import argparse
import sys
import threading

from nianbao.devportal.server import DevPortal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nianbao.devportal",
        description="Serve the synthetic 政府信息公开年报 portal (TRS-style) for demos and crawler tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one (default: 8000)")
    args = parser.parse_args(argv)
    portal = DevPortal(host=args.host, port=args.port)
    try:
        portal.start()
    except OSError as exc:
        print(f"cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"nianbao dev portal: {portal.base_url}/")
    print(f"年报 column:        {portal.column_url}")
    print("Ctrl+C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
