"""`python -m devstack`: the whole platform on this machine (moto + API + event pump). See README."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEED = ROOT / "devstack" / "demo-seed.json"
DEMO_ADMIN_KEY = "demo-admin-key"


def _local_environment(aws_endpoint: str) -> None:
    from chalicelib.domain.directory import hash_api_key  # pure: reads no settings

    # Set before chalicelib is imported: settings and table definitions read them once.
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-3"),
            "AWS_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-3"),
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "CHORALE_LOCAL_STACK": "1",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "1"),
            "POWERTOOLS_LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            # The demo administrator key, unless the operator configures their own hashes.
            "ADMIN_KEY_HASHES": os.environ.get("ADMIN_KEY_HASHES") or hash_api_key(DEMO_ADMIN_KEY),
        }
    )


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the servers bind (allow_reuse_address): a stopped stack's TIME_WAIT sockets do not count, a listener does
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("AWS_PORT", "0")),
        help="port of the embedded moto server (0: any free port)",
    )
    parser.add_argument("--seed", default=os.environ.get("SEED") or str(DEFAULT_SEED))
    args = parser.parse_args(argv)
    busy = [port for port in (args.port, args.aws_port) if port and not _port_free(args.host, port)]
    if busy:
        print(f"port {busy[0]} on {args.host} is in use (another `make run`?): stop it, or choose another port, "
              "e.g. make run PORT=8001 (AWS_PORT= for the AWS stand-in)", file=sys.stderr)  # fmt: skip
        return 2

    import logging

    from devstack.aws import AwsStandIn

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log

    moto = AwsStandIn(ip_address="127.0.0.1", port=args.aws_port, verbose=False)
    moto.start()
    aws_host, aws_port = moto.get_host_and_port()
    aws_endpoint = f"http://{aws_host}:{aws_port}"
    demo_admin = not os.environ.get("ADMIN_KEY_HASHES")
    _local_environment(aws_endpoint)
    from chalice.local import ThreadedHTTPServer

    # Bound before the app reads its settings: with --port 0, links carry the port taken, not 0.
    listener = ThreadedHTTPServer((args.host, args.port), None)
    base_url = f"http://{args.host}:{listener.server_port}"
    # links in events and mails point at this API (no API Gateway here to tell its address)
    os.environ.setdefault("PUBLIC_BASE_URL", base_url)

    sys.path.insert(0, str(ROOT))
    from chalice.cli import CLIFactory

    from chalicelib.config import settings
    from devstack.gateway import make_server
    from devstack.pump import EventPump
    from devstack.resources import create_resources
    from devstack.seed import SeedError, load_seed

    factory = CLIFactory(str(ROOT))
    config = factory.create_config_obj(chalice_stage_name="dev")
    os.environ.update(config.environment_variables)
    os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "WARNING")  # the terminal's, not the stage's
    app = factory.load_chalice_app(config.environment_variables)
    from chalicelib.entrypoints.observability import logger, send_module_logs_through

    send_module_logs_through(logger)  # as on Lambda: LOG_LEVEL=INFO shows the modules' INFO lines too

    resources = create_resources(settings())
    try:
        seeded = load_seed(args.seed)
    except (OSError, ValueError, SeedError) as exc:
        print(f"cannot load seed {args.seed}: {exc}", file=sys.stderr)
        listener.server_close()
        moto.stop()
        return 2

    stream_handlers = {s.name: resources.invoice_stream_arn for s in app.event_sources if hasattr(s, "stream_arn")}
    pump = EventPump(app, settings().region, stream_handlers)
    pump.start()
    server = make_server(app, config, args.host, listener.server_port, listener)

    print(f"Chorale local platform on {base_url}  (AWS stand-in: {aws_endpoint})")
    print(f"Seed: {args.seed}")
    for structure, keys in seeded:
        for key in keys:
            print(f"  API key {key}  ->  {structure.siret} {structure.name} ({', '.join(structure.roles)})")
    if demo_admin:
        print(f"  Admin key {DEMO_ADMIN_KEY}  ->  directory administration (/v1/admin/...)")
    print("Ctrl-C to stop.", flush=True)

    stopping = threading.Event()

    def stop(signum, frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        pump.stop()
        moto.stop()
        print("Chorale local platform stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
