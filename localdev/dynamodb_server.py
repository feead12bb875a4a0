"""moto's DynamoDB on loopback, one request at a time: `python -m localdev.dynamodb_server -p 8001`.

DynamoDB runs each transaction atomically and in isolation. moto does not under concurrent
requests: its TransactWriteItems applies items one by one and rolls back when an item's condition
fails, so a concurrent request could see or overwrite half a transaction. Serving one request at a
time restores DynamoDB's semantics, so concurrency tests (32 reports of one order, racing refunds
and disbursements) exercise our conditions rather than moto's races. Clients still run concurrently.

moto's rollback copies every table the transaction names; this server rolls back only the items
the transaction touched (`localdev.dynamodb_transactions`), so a transaction costs the same on a
stack holding a year of demo history as on an empty one; and it writes the items of a read's response
as they are (`localdev.dynamodb_responses`) rather than through moto's slow serializer.
"""

from __future__ import annotations

import argparse
import logging
from threading import Event, Thread

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from localdev import dynamodb_responses, dynamodb_transactions


class SerialMotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # One access-log line per DynamoDB call drowns everything else out.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        dynamodb_transactions.install()
        dynamodb_responses.install()
        self._server: BaseWSGIServer = make_server(
            host, port, DomainDispatcherApplication(create_backend_app), threaded=False,
            request_handler=MotoRequestHandler,
        )  # fmt: skip
        self._thread: Thread | None = None
        self._started = Event()

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> SerialMotoServer:
        self._thread = Thread(target=self._server.serve_forever, daemon=True, name="moto-dynamodb")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8001)
    args = parser.parse_args()
    SerialMotoServer(args.host, args.port).serve_forever()


if __name__ == "__main__":
    main()
