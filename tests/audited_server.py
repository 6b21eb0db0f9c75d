"""``streamlit`` with a log of every network connection and name lookup the server makes.

The offline test serves the app through this launcher and then checks that the server
talked to nothing but its own loopback address. Python's audit hooks see every
``socket.connect`` and ``getaddrinfo`` call, whichever library makes it.

Usage: AUDIT_LOG=/path/to/file python tests/audited_server.py run app.py [options]
"""

import os
import sys

EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
          "socket.gethostbyaddr", "socket.sendto"}


def _open_log():
    log = open(os.environ["AUDIT_LOG"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115

    def hook(event: str, args: tuple) -> None:
        if event in EVENTS:
            # args: (socket, address) for connect/sendto, (host, port, ...) for lookups
            where = args[1] if event in ("socket.connect", "socket.sendto") else args[0]
            log.write(f"{event}\t{where!r}\n")

    return hook


if __name__ == "__main__":
    sys.addaudithook(_open_log())
    from streamlit.web.cli import main

    sys.argv[0] = "streamlit"
    sys.exit(main())
