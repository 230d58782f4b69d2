"""One botocore loader for every account's session: each service model is read and held once."""

from __future__ import annotations

import pytest

from evidence.collectors.aws import _sessions_sharing_models


def test_each_account_has_its_credentials_and_all_share_one_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    make = _sessions_sharing_models()
    first = make(aws_access_key_id="AKIAFIRST", aws_secret_access_key="one", region_name="eu-west-2")
    second = make(aws_access_key_id="AKIASECOND", aws_secret_access_key="two", aws_session_token="t",
                  region_name="eu-west-2")
    loaders = [s._session.get_component("data_loader") for s in (first, second)]
    assert loaders[0] is loaders[1]
    keys = [s.get_credentials().access_key for s in (first, second)]
    assert keys == ["AKIAFIRST", "AKIASECOND"]
    # a model read for one account's client serves the other's: nothing more is read
    first.client("sts")
    cache = loaders[0]._cache
    read = set(cache)
    assert ("load_service_model", "sts", "service-2", "api_version", None) in read
    second.client("sts")
    assert set(cache) == read
