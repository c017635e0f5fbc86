"""A server's background work: a daemon thread that runs a round, sleeps, and runs it again.

The reconciler and the scheduler are such loops. A round that fails (the store locked a moment)
is logged and tried again at the next one; stop() ends the loop between rounds.
"""

from __future__ import annotations

import logging
import threading

from docscrawl import models

logger = logging.getLogger(__name__)


class BackgroundLoop:
    """Runs ``tick()`` every ``wait()`` seconds in a daemon thread of its own."""

    name = "background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def wait(self) -> float:
        """Seconds until the next round."""
        raise NotImplementedError

    def tick(self) -> None:
        """One round of the work."""
        raise NotImplementedError

    def before_first(self) -> None:
        """Once, before the first round."""

    def _run(self) -> None:
        self._guarded(self.before_first)
        while not self._stop.wait(self.wait()):
            self._guarded(self.tick)

    def _guarded(self, work) -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - the store may be locked a moment: next round
            logger.warning("%s: %s", self.name.capitalize(), models.first_line(exc))
