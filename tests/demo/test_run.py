"""`evidence demo`'s configuration and signing key (`evidence.demo.run`), without starting the company."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence.config import ConfigError
from evidence.demo.run import DEMO_PUBLIC_KEY, demo_config, demo_signing_key


def test_demo_config_is_validated_and_names_the_simulated_company() -> None:
    cfg = demo_config(["eu-west-2"])
    assert cfg.bundle.company == "Zaptic (simulated)"
    assert set(cfg.sections) == {"aws"}
    assert cfg.sections["aws"].model_dump()["regions"] == ["eu-west-2"]
    github = {"org": "zaptic", "token_env": "T", "api_url": "http://127.0.0.1:1"}
    assert demo_config(["eu-west-2"], github=github).sections["github"].model_dump()["org"] == "zaptic"
    with pytest.raises(ConfigError, match=r"aws\.regions"):
        demo_config(["not-a-region"])


def test_the_signing_key_is_made_once_and_kept(tmp_path: Path) -> None:
    private = demo_signing_key(tmp_path / "out")
    first = private.read_bytes()
    assert (private.stat().st_mode & 0o777) == 0o600 and (tmp_path / "out" / DEMO_PUBLIC_KEY).is_file()
    assert demo_signing_key(tmp_path / "out") == private and private.read_bytes() == first
