"""A real SMTP server for the delivery tests (aiosmtpd; install it with .ci/smtp-tools.sh).

Stores every accepted message byte for byte (the DATA as received, dot-unstuffed: `envelope.original_content`) as
numbered files 000001.eml, 000002.eml… in --dir, written under a temporary name and renamed. Prints "ready" once it
listens. Misbehaves on request:
  --fail-data N     answer 451 to the first N DATA commands
  --reject REGEX    answer 550 to RCPT TO addresses matching REGEX
  --delay SECONDS   wait this long before listening (the port is "down" until then)
"""

import argparse
import os
import re
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory, fail_data, reject):
        self.directory = directory
        self.fail_data = fail_data
        self.reject = re.compile(reject) if reject else None
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject.search(address):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail_data > 0:
                self.fail_data -= 1
                return "451 4.3.0 temporary failure, try again later"
            self.count += 1
            number = self.count
        name = "%06d.eml" % number
        temporary = os.path.join(self.directory, "." + name + ".tmp")
        with open(temporary, "wb") as f:
            f.write(envelope.original_content)
        os.rename(temporary, os.path.join(self.directory, name))
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--fail-data", type=int, default=0)
    parser.add_argument("--reject", default="")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if args.delay:
        time.sleep(args.delay)
    handler = Handler(args.dir, args.fail_data, args.reject)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port, data_size_limit=50_000_000)
    controller.start()
    print("ready", flush=True)
    try:
        # Until the test kills us, or closes our stdin.
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
