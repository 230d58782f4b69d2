"""Typesets one Typst document in a process of its own, so that a crash in the typesetter (even
a segfault) costs the run one report, never its evidence:

    python -m evidence.typst_child REQUEST.json

REQUEST.json names the `input` (.typ), the `root` folder, the `output` (.pdf), the `inputs`
(Typst's `sys.inputs`), the `font_paths`, whether to `ignore_system_fonts`, and the PDF's
`timestamp` (ISO 8601). Exit 0 with the PDF written, or 1 with Typst's message on stderr.
Nothing but `typst` and the standard library is imported.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    import typst

    try:
        pdf: bytes = typst.compile(
            request["input"], root=request["root"], format="pdf", sys_inputs=request["inputs"],
            font_paths=request["font_paths"], ignore_system_fonts=request["ignore_system_fonts"],
            timestamp=datetime.fromisoformat(request["timestamp"]), pdf_tags=False,
        )
    except RuntimeError as exc:  # Typst's compile errors: the template's or the data's
        print(f"typst: {exc}", file=sys.stderr)
        return 1
    Path(request["output"]).write_bytes(pdf)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
