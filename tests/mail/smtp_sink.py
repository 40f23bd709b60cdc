"""A real SMTP server for the mail system tests (tests/src/smtp.rs): aiosmtpd on a loopback
port, writing every mail it accepts to DIR as <n>.json ({"mail_from", "rcpt_tos", "data"}),
renamed into place once complete. Prints "listening PORT" when ready; stops when its standard
input closes or it is killed.

    python smtp_sink.py DIR [PORT]
"""

import json
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = len([f for f in os.listdir(self.directory) if f.endswith(".json")])
            tmp = os.path.join(self.directory, f"{n:05}.tmp")
            with open(tmp, "w") as f:
                json.dump(
                    {
                        "mail_from": envelope.mail_from,
                        "rcpt_tos": envelope.rcpt_tos,
                        "data": envelope.content.decode("utf-8", "replace"),
                    },
                    f,
                )
            os.rename(tmp, os.path.join(self.directory, f"{n:05}.json"))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    directory = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else free_port()
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
