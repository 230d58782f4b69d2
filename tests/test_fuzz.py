"""Every parser of user input, fed what hypothesis makes up: a valid model, or the parser's own
error (one line, which the command line prints with exit code 2), never another exception.
The budget is fixed (derandomized, a set number of examples), so CI runs the same cases."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.attachments import STORE as ATTACHMENT_STORE
from evidence.attachments import AttachmentError, load_attachments
from evidence.bundle import MANIFEST, MANIFEST_DIGEST, parse_manifest, verify
from evidence.catalog import CatalogError, default_catalog_dir, load_catalog
from evidence.config import ConfigError, load_config, parse_config
from evidence.waivers import WaiverError, load_waivers

BUDGET = settings(max_examples=120, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                    st.dates())
_tree = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=12), inner, max_size=5)),
                     max_leaves=30)
#: text that looks like the files people write: keys, brackets, quotes, dates, newlines
_PIECES = [*"abcdez019-_:=[]{}\"'\n #.,\\ ", "2026-13-01", "\xff", "é", "id", "expires: ", "[[checks]]", "= ["]
_texty = st.lists(st.sampled_from(_PIECES), max_size=120).map("".join)
_SECTIONS = ["aws", "github", "google_workspace", "probe", "bundle", "alerts", "controls", "people"]


@BUDGET
@given(st.dictionaries(st.sampled_from([*_SECTIONS, "x"]), st.dictionaries(st.text(max_size=20), _tree,
                                                                           max_size=6), max_size=4))
def test_any_configuration_is_a_config_or_one_config_error(data: dict[str, object]) -> None:
    try:
        parse_config(data)
    except ConfigError as exc:
        assert "\n" not in str(exc).strip()


@BUDGET
@given(st.one_of(_texty, st.binary(max_size=200)))
def test_any_configuration_file_is_a_config_or_one_config_error(raw: str | bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evidence.toml"
        path.write_bytes(raw.encode("utf-8") if isinstance(raw, str) else raw)
        try:
            load_config(path)
        except ConfigError as exc:
            assert "\n" not in str(exc).strip()


_REAL_CONTROL = (default_catalog_dir() / "DR-TEST.toml").read_text(encoding="utf-8")


@BUDGET
@given(st.one_of(_texty, st.tuples(st.integers(0, len(_REAL_CONTROL)), st.integers(0, 40), _texty).map(
    lambda cut: _REAL_CONTROL[: cut[0]] + cut[2] + _REAL_CONTROL[cut[0] + cut[1]:])))
def test_any_control_file_is_a_catalog_or_one_catalog_error(text: str) -> None:
    """Made-up text, and a real control with a piece cut out and something else put in."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(default_catalog_dir(), Path(tmp) / "c")
        (Path(tmp) / "c" / "FUZZ.toml").write_text(text, encoding="utf-8")
        try:
            load_catalog(Path(tmp) / "c")
        except CatalogError as exc:
            assert "\n" not in str(exc).strip()


@BUDGET
@given(st.one_of(_texty, _tree.map(lambda t: json.dumps(t, default=str))))
def test_any_waiver_file_is_waivers_or_one_waiver_error(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "w.yaml").write_bytes(text.encode("utf-8", errors="surrogateescape"))
        try:
            load_waivers(Path(tmp), load_catalog())
        except WaiverError as exc:
            assert "\n" not in str(exc).strip()


@BUDGET
@given(st.one_of(st.binary(max_size=300), _tree.map(lambda t: json.dumps(t, default=str).encode())))
def test_any_manifest_is_read_or_refused_and_verify_never_raises(raw: bytes) -> None:
    import hashlib
    import tempfile

    try:
        parse_manifest(raw)
    except (ValueError, UnicodeDecodeError):
        pass
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp)
        (bundle / MANIFEST).write_bytes(raw)
        (bundle / MANIFEST_DIGEST).write_text(f"{hashlib.sha256(raw).hexdigest()}  {MANIFEST}\n")
        assert isinstance(verify(bundle), list)


@BUDGET
@given(st.one_of(_texty, _tree.map(lambda t: json.dumps(t, default=str))))
def test_any_attachment_record_is_read_or_one_attachment_error(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        records = Path(tmp) / ATTACHMENT_STORE / "records"
        records.mkdir(parents=True)
        (records / "r.json").write_text(text, encoding="utf-8")
        try:
            load_attachments(Path(tmp))
        except AttachmentError as exc:
            assert "\n" not in str(exc).strip()
