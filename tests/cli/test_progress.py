"""The run's progress on stderr (issue 17): piped, a plain line at each phase change and at
least every `every` seconds from the last line printed, even while a phase reports nothing;
on a terminal, a rich live line with the units done out of their total, the API calls, the
errors and the phase; never anything on stdout; nothing at all with quiet; no thread left."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from rich.console import Console

from evidence.cli import cli
from evidence.cli.common import _progress_printer
from evidence.cli.progress import ProgressDisplay, plain_line
from evidence.collectors.base import ProgressEvent, ProgressReceiver

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _piped(clock: FakeClock, every: float = 10.0) -> tuple[ProgressDisplay, io.StringIO]:
    stream = io.StringIO()
    return ProgressDisplay(live=False, stream=stream, every=every, clock=clock, ticker=False), stream


def _progress_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "evidence-progress"]


def test_the_plain_line_names_phase_units_calls_errors_and_time() -> None:
    event = ProgressEvent(phase="collect", done=57, total=114, calls=1234, errors=2)
    assert plain_line(event, 12.7) == "evidence: collect 57/114 units, 1,234 API calls, 2 errors (12 s)"
    one = ProgressEvent(phase="judge", done=1, total=1, calls=1, errors=1, message="5,000 findings")
    assert plain_line(one, 3) == "evidence: judge 1/1 units, 1 API call, 1 error (3 s) - 5,000 findings"


def test_piped_a_steady_stream_of_events_still_prints_every_interval() -> None:
    """The bug: the heartbeat restarted on every event, so a steady stream printed nothing."""
    clock = FakeClock()
    shown, stream = _piped(clock)
    start = clock.now
    printed: list[float] = []
    for second in range(50):
        clock.now = start + second
        before = stream.getvalue().count("\n")
        shown.event(ProgressEvent(phase="collect", done=second, total=114, calls=second * 10))
        if stream.getvalue().count("\n") > before:
            printed.append(clock.now - start)
    shown.end()
    assert printed[0] == 0  # the phase change, at once
    assert len(printed) >= 5
    assert max(b - a for a, b in pairwise(printed)) <= 10


def test_piped_a_phase_without_events_prints_at_least_every_interval() -> None:
    """Judging, rendering the reports: nothing reports progress for a minute, the ticker does."""
    clock = FakeClock()
    shown, stream = _piped(clock)
    start = clock.now
    shown.event(ProgressEvent(phase="collect", done=114, total=114, calls=1234, errors=2))
    clock.now += 1
    shown.event(ProgressEvent(phase="judge", done=114, total=114, calls=1234, errors=2))
    times = [0.0, 1.0]
    for _ in range(60):  # a minute of judging, the ticker looking every second
        clock.now += 1
        before = stream.getvalue().count("\n")
        shown.tick()
        if stream.getvalue().count("\n") > before:
            times.append(clock.now - start)
    shown.event(ProgressEvent(phase="reports", done=114, total=114, calls=1234, errors=2))
    shown.end()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("evidence: collect 114/114 units, 1,234 API calls, 2 errors")
    assert lines[1].startswith("evidence: judge 114/114 units")
    assert lines[-1].startswith("evidence: reports 114/114 units")
    assert sum(line.startswith("evidence: judge") for line in lines) >= 7  # 1 + one per 10 s of 60
    assert max(b - a for a, b in pairwise(times)) <= 10


def test_piped_each_phase_change_prints_a_line_at_once() -> None:
    clock = FakeClock()
    shown, stream = _piped(clock)
    for phase in ("collect", "judge", "reports", "done"):
        shown.event(ProgressEvent(phase=phase, done=3, total=3))
    with shown.phase("history"):
        pass
    phases = [line.split()[1] for line in stream.getvalue().splitlines()]
    assert phases == ["collect", "judge", "reports", "done", "history"]


def test_the_ticker_thread_prints_while_nothing_happens_and_stops_at_the_end() -> None:
    stream = io.StringIO()
    shown = ProgressDisplay(live=False, stream=stream, every=0.05)
    shown.event(ProgressEvent(phase="judge", done=1, total=1))
    (thread,) = _progress_threads()
    assert thread.daemon  # never keeps the process alive
    time.sleep(0.5)
    shown.end()
    assert not thread.is_alive() and not _progress_threads()
    count = stream.getvalue().count("evidence: judge")
    assert count >= 4, stream.getvalue()
    time.sleep(0.2)
    assert stream.getvalue().count("evidence: judge") == count  # nothing after the end


def test_on_a_terminal_a_live_line_shows_units_calls_errors_and_phase() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    shown = ProgressDisplay(live=True, console=console)
    shown.event(ProgressEvent(phase="collect", done=57, total=114, calls=1234, errors=2,
                              message="aws 57/114: ec2 123456789012 eu-west-2 [x]"))
    assert not _progress_threads()  # rich refreshes the line itself
    shown.end()
    collect = ANSI.sub("", out.getvalue())
    for text in ("collect", "57/114 units", "1,234 API calls", "2 errors", "ec2 123456789012 eu-west-2 [x]"):
        assert text in collect, (text, collect)

    out.truncate(0)
    out.seek(0)
    shown.event(ProgressEvent(phase="judge", done=114, total=114, calls=1300, errors=3, message="5,000 findings"))
    shown.end()
    judge = ANSI.sub("", out.getvalue())
    for text in ("judge", "114/114 units", "1,300 API calls", "3 errors", "5,000 findings"):
        assert text in judge, (text, judge)


def test_quiet_prints_nothing_and_starts_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    shown = ProgressDisplay(quiet=True, live=False)
    shown.event(ProgressEvent(phase="collect", done=1, total=2))
    shown("a message")
    with shown.phase("history"):
        assert not _progress_threads() and not shown.running
    shown.end()
    assert capsys.readouterr() == ("", "")


def test_the_printer_is_a_receiver_on_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    printer = _progress_printer()
    assert isinstance(printer, ProgressReceiver)
    printer.event(ProgressEvent(phase="collect", done=1, total=2, calls=3))
    with printer.phase("history"):
        pass
    printer.end()
    out, err = capsys.readouterr()
    assert out == ""
    assert "evidence: collect 1/2 units, 3 API calls, 0 errors" in err
    assert "evidence: history 1/2 units" in err
    assert not _progress_threads()
    quiet = _progress_printer(quiet=True)
    assert isinstance(quiet, ProgressReceiver)
    quiet.event(ProgressEvent(phase="collect"))
    with quiet.phase("history"):
        pass
    assert capsys.readouterr() == ("", "")


def test_a_plain_message_outside_a_run_still_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """`demo --period` reports its weeks as plain messages."""
    clock = FakeClock()
    shown, stream = _piped(clock)
    shown("week 1 of 13: 2026-10-01")
    shown("week 2 of 13: 2026-10-08")  # within the interval
    clock.now += 10
    shown("week 3 of 13: 2026-10-15")
    assert stream.getvalue().splitlines() == ["evidence: week 1 of 13: 2026-10-01",
                                              "evidence: week 3 of 13: 2026-10-15"]
    assert not _progress_threads()


def test_a_manual_run_announces_its_phases_on_stderr_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--only", "manual", "--out", str(tmp_path / "out")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    phases = [line.split()[1] for line in result.stderr.splitlines() if re.match(r"evidence: \w+ \d+/\d+ units", line)]
    assert phases == ["collect", "judge", "reports", "done", "history"], result.stderr
    assert "units" not in result.stdout and "API calls," not in result.stdout
    assert not _progress_threads()


def test_a_piped_aws_run_in_its_own_process_prints_its_phases(
    aws_env: None, moto_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_url, "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    s3 = boto3.client("s3", region_name="eu-west-2", endpoint_url=moto_url)
    for i in range(3):
        s3.create_bucket(Bucket=f"progress-{i}", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    (tmp_path / "evidence.toml").write_text('[aws]\nregions = ["eu-west-2"]\n', encoding="utf-8")
    evidence = str(Path(sys.executable).with_name("evidence"))
    proc = subprocess.run([evidence, "run", "--only", "aws,manual", "--out", str(tmp_path / "out")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1, 3), proc.stderr
    lines = [line for line in proc.stderr.splitlines() if re.match(r"evidence: \w+ [\d,]+/[\d,]+ units", line)]
    phases = [line.split()[1] for line in lines]
    changes = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
    assert changes == ["collect", "judge", "reports", "done", "history"]
    last = next(line for line in reversed(lines) if line.startswith("evidence: done"))
    done = re.match(r"evidence: done ([\d,]+)/([\d,]+) units, ([\d,]+) API calls?", last)
    assert done is not None, last
    units, total, calls = (int(g.replace(",", "")) for g in done.groups())
    assert units == total > 1 and calls > 0
    assert "units" not in proc.stdout


def test_a_log_line_during_the_live_display_goes_through_it_and_the_handler_is_restored() -> None:
    import logging
    import sys

    handler = logging.StreamHandler(sys.__stderr__)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        out = io.StringIO()
        shown = ProgressDisplay(live=True, console=Console(file=out, force_terminal=True, width=100))
        shown.event(ProgressEvent(phase="collect", done=1, total=4))
        assert handler.stream is not sys.__stderr__  # pointed at the display's stand-in for stderr
        logging.getLogger("evidence.test").warning("a collector's warning")
        shown.end()
        assert handler.stream is sys.__stderr__
        assert "a collector's warning" in out.getvalue()
    finally:
        root.removeHandler(handler)
