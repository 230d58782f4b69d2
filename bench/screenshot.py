"""Render a bundle's report.html in Debian's headless Chromium to PNG, for a person to look at.

    .venv/bin/python bench/screenshot.py BUNDLE/report.html [--out report.png] [--width 1400] [--height 2400]
                                         [--crop 2400:4800]

Chromium runs with networking features off and a throwaway profile; the report itself forbids
loading anything (its Content-Security-Policy). Install Chromium with
`apt-get update && apt-get install -y chromium`. Not used by the tests.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def screenshot(html: Path, out: Path, width: int = 1400, height: int = 2400) -> Path:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium not found: apt-get update && apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="evidence-chromium-") as profile:
        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
            f"--user-data-dir={profile}", f"--screenshot={out.resolve()}", f"--window-size={width},{height}",
            html.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0 or not out.is_file():
        raise SystemExit(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("html", type=Path, help="report.html")
    ap.add_argument("--crop", default="", help="keep only rows TOP:BOTTOM of a tall screenshot, e.g. 2400:4800")
    ap.add_argument("--out", type=Path, default=Path("report.png"))
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=2400)
    args = ap.parse_args(argv)
    path = screenshot(args.html, args.out, args.width, args.height)
    if args.crop:
        from PIL import Image  # Pillow: a dev dependency

        top, bottom = (int(v) for v in args.crop.split(":"))
        with Image.open(path) as im:
            im.crop((0, top, im.width, min(bottom, im.height))).save(path)
    print(f"{path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
