"""A run's progress on stderr (never stdout, which may carry JSON).

On a terminal, a live line drawn with rich: the phase (collect, judge, reports, history...),
the collection's units done out of their total, the API calls and errors so far, the time
since the run started and the latest message; it is cleared when the run ends, before the
summary. Piped, a plain line at each phase change and at least every `every` seconds, counted
from the last line printed (a background ticker prints during a phase that reports nothing,
such as judging or rendering the reports):

    evidence: collect 57/114 units, 1,234 API calls, 2 errors (12 s)

The `Runner` sends a `ProgressDisplay` its `ProgressEvent`s and calls `end()` when the run is
over, which stops the display and its thread; `phase("history")` announces a later phase of
the command (as a context manager: ended on leaving it). Every thread is a daemon that stops
on `end()`: none keeps the process alive.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from evidence.collectors.base import ProgressEvent

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, Task, TaskID

#: seconds between two plain lines at most (the issue asks for one at least every 10 s: the
#: margin absorbs a busy machine's late wake-ups)
PLAIN_EVERY = 9.0


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def plain_line(event: ProgressEvent, elapsed: float) -> str:
    """`evidence: collect 57/114 units, 1,234 API calls, 2 errors (12 s)`, with the message
    after a dash when there is one."""
    line = (f"evidence: {event.phase} {event.done:,}/{event.total:,} units, {_plural(event.calls, 'API call')}, "
            f"{_plural(event.errors, 'error')} ({int(elapsed)} s)")
    return f"{line} - {event.message}" if event.message else line


class ProgressDisplay:
    """What `_progress_printer` hands the runner: a `ProgressReceiver` (`evidence.collectors.base`).

    `quiet`: print nothing. `live`: draw with rich on `console` (default: whether stderr is a
    terminal); otherwise plain lines on `stream` (default: the current `sys.stderr`) at least
    every `every` seconds of `clock`, from a daemon ticker thread when `ticker`."""

    def __init__(
        self, *, quiet: bool = False, live: bool | None = None, console: Console | None = None,
        stream: TextIO | None = None, every: float = PLAIN_EVERY, clock: Callable[[], float] = time.monotonic,
        ticker: bool = True,
    ) -> None:
        self.quiet = quiet
        self.live = sys.stderr.isatty() if live is None else live
        self.every = every
        self._console = console
        self._stream = stream
        self._clock = clock
        self._ticker = ticker
        self._lock = threading.RLock()
        self._state: ProgressEvent | None = None
        self._running = False
        self._started_at: float | None = None
        self._last_print = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rich: Progress | None = None
        #: logging handlers pointed at the live display's stderr, with the stream each had
        self._relogged: list[tuple[logging.StreamHandler[TextIO], TextIO | None]] = []
        self._task: TaskID | None = None
        self._legacy_line = False

    # -- what the runner calls ---------------------------------------------------------------

    def __call__(self, message: str) -> None:
        """A plain message (a collector's, outside a run that sends events; `demo --period`'s
        weeks): the current line's message during a run, else printed on its own (piped: at most
        once every `every` seconds)."""
        if self.quiet:
            return
        with self._lock:
            if self._running and self._state is not None:
                self.event(replace(self._state, message=message))
                return
            now = self._clock()
            if self.live:
                self._write(f"\r\033[K{message}", newline=False)
                self._legacy_line = True
            elif now - self._last_print >= self.every:
                self._write(f"evidence: {message}")
                self._last_print = now

    def event(self, event: ProgressEvent) -> None:
        if self.quiet:
            return
        with self._lock:
            if not self._running:
                self._start(event)
            changed = self._state is None or self._state.phase != event.phase
            self._state = event
            if self.live:
                self._update_rich(event)
            elif changed or self._clock() - self._last_print >= self.every:
                self._print_state()

    def end(self) -> None:
        """Stop: the ticker thread, the live line (cleared); idempotent, and a later event
        starts the display again."""
        with self._lock:
            if not self._running:
                return
            self._running = False
            self._stop.set()
            thread, self._thread = self._thread, None
            rich, self._rich = self._rich, None
            self._task = None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if rich is not None:
            rich.stop()
        for handler, stream in self._relogged:
            if stream is not None:  # None: setStream found it already there, nothing to restore
                handler.setStream(stream)
        self._relogged = []

    # -- what the commands call --------------------------------------------------------------

    def phase(self, name: str, message: str = "") -> PhaseScope:
        """Announce `name` (e.g. "history") now, with the run's counts so far; as a context
        manager the display ends when the block is left."""
        if not self.quiet:
            base = self._state or ProgressEvent(phase=name)
            self.event(replace(base, phase=name, message=message))
        return PhaseScope(self)

    def tick(self) -> None:
        """Piped: print the current state if `every` seconds have passed since the last line
        (the ticker thread calls it; a test may, with its own clock)."""
        with self._lock:
            if (self._running and not self.live and self._state is not None
                    and self._clock() - self._last_print >= self.every):
                self._print_state()

    @property
    def running(self) -> bool:
        return self._running

    # -- inside ------------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return self._clock() - (self._started_at if self._started_at is not None else self._clock())

    def _write(self, text: str, newline: bool = True) -> None:
        stream = self._stream or sys.stderr
        try:
            stream.write(text + ("\n" if newline else ""))
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not cost the run
            pass

    def _print_state(self) -> None:
        assert self._state is not None
        self._write(plain_line(self._state, self._elapsed()))
        self._last_print = self._clock()

    def _start(self, first: ProgressEvent) -> None:
        if self._started_at is None:
            self._started_at = self._clock()
        self._running = True
        self._stop = threading.Event()
        if self._legacy_line:  # a plain message's line, from before
            self._write("\r\033[K", newline=False)
            self._legacy_line = False
        if self.live:
            self._start_rich(first)
        elif self._ticker:
            self._thread = threading.Thread(target=self._tick_until_stopped, args=(self._stop,),
                                            name="evidence-progress", daemon=True)
            self._thread.start()

    def _tick_until_stopped(self, stop: threading.Event) -> None:
        while True:
            with self._lock:
                due = self._last_print + self.every - self._clock()
            if stop.wait(min(max(due, 0.05), self.every)):
                return
            self.tick()

    def _start_rich(self, first: ProgressEvent) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn
        from rich.table import Column
        from rich.text import Text

        elapsed = self._elapsed

        class Elapsed(ProgressColumn):
            """The seconds since the run started (ticking while no event comes)."""

            def render(self, task: Task) -> Text:
                return Text(f"{int(elapsed())} s", style="progress.elapsed")

        console = self._console or Console(stderr=True)
        self._rich = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[phase]}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[units]} units"),
            TextColumn("{task.fields[calls]}"),
            TextColumn("{task.fields[errors]}"),
            Elapsed(),
            TextColumn("{task.fields[message]}", markup=False,
                       table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
            console=console, transient=True, redirect_stdout=False, redirect_stderr=True,
            refresh_per_second=4,
        )
        self._task = self._rich.add_task("run", total=None, phase="", units="0/0", calls="", errors="",
                                         message="")
        self._update_rich(first)  # the first frame shows it
        self._rich.start()
        # log lines go through the live display (rich's stand-in for stderr) instead of over it: a
        # handler bound to the real stderr before the display started is pointed at the stand-in
        self._relogged = [(h, h.setStream(sys.stderr)) for h in logging.getLogger().handlers
                          if type(h) is logging.StreamHandler and h.stream is sys.__stderr__]

    def _update_rich(self, event: ProgressEvent) -> None:
        if self._rich is None or self._task is None:
            return
        collecting = event.phase == "collect" and event.total > 0
        self._rich.update(
            self._task, total=event.total if collecting else None, completed=event.done,
            phase=event.phase, units=f"{event.done:,}/{event.total:,}",
            calls=_plural(event.calls, "API call"), errors=_plural(event.errors, "error"), message=event.message,
        )


class PhaseScope:
    """`with display.phase("history"): ...` ends the display when the block is left."""

    def __init__(self, display: ProgressDisplay | None) -> None:
        self._display = display

    def __enter__(self) -> PhaseScope:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._display is not None:
            self._display.end()


def display(quiet: bool = False) -> ProgressDisplay:
    """A new display on stderr for a command's run; the command keeps it, announces its later
    phases with `ProgressDisplay.phase` (e.g. "history"), and it is ended by the run's end."""
    return ProgressDisplay(quiet=quiet)


__all__ = ["PLAIN_EVERY", "PhaseScope", "ProgressDisplay", "display", "plain_line"]
