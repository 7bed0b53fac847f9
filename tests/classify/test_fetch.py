"""fetch-events against the local product server: batches, retries, resume without refetching."""

from __future__ import annotations

import pandas as pd
import pytest

from serendip.errors import InputError
from serendip.io import EventSet
from serendip.io.fetch import cached_events, detection_dir, fetch_products, read_manifest


def _dets():
    return pd.DataFrame(
        {"obsid": [1575, 1575, 303, 303, 1575], "region_id": [1, 2, 7, 8, 1], "name": list("abcde")}
    )


def test_fetch_retries_resumes_and_feeds_ingest(local_server, tmp_path):
    base, state = local_server
    tmpl = base + "/products/{obsid}/{region_id}/{filetype}"
    state.fail_products["/products/303/7/regevt"] = 2  # two 500s, then success (retried)
    state.fail_products["/products/303/8/regevt"] = 99  # keeps failing: recorded, not fatal
    man = fetch_products(
        _dets(),
        tmp_path,
        url_template=tmpl,
        batch_size=2,
        workers=2,
        retries=2,
        backoff_s=0.01,
        timeout_s=5,
        progress=False,
    )
    st = dict(zip(man["obsreg_id"], man["status"], strict=True))
    assert st == {
        "1575_1": "ok",
        "1575_2": "ok",
        "303_7": "ok",
        "303_8": "failed",
    }  # duplicate 1575_1 fetched once
    assert state.product_requests["/products/303/7/regevt"] == 3
    assert state.product_requests["/products/303/8/regevt"] == 3
    assert "server error HTTP 500" in man.set_index("obsreg_id").loc["303_8", "reason"]
    assert (detection_dir(tmp_path, 303, 7) / ".complete").exists()
    assert not list(tmp_path.rglob("*.part"))
    assert read_manifest(tmp_path)["status"].tolist() == man["status"].tolist()

    # resume: the server recovers; only the missing detection is requested again
    state.fail_products["/products/303/8/regevt"] = 0
    before = dict(state.product_requests)
    man2 = fetch_products(_dets(), tmp_path, url_template=tmpl, retries=0, progress=False)
    assert dict(zip(man2["obsreg_id"], man2["status"], strict=True)) == {
        "1575_1": "cached",
        "1575_2": "cached",
        "303_7": "cached",
        "303_8": "ok",
    }
    changed = {k for k in state.product_requests if state.product_requests[k] != before.get(k, 0)}
    assert changed == {"/products/303/8/regevt"}

    # an interrupted download leaves only a .part file: it is fetched again
    d = detection_dir(tmp_path, 999, 1)
    d.mkdir(parents=True)
    (d / "acisf00999_0001_regevt3.fits.part").write_bytes(b"half")
    man3 = fetch_products(
        pd.DataFrame({"obsid": [999], "region_id": [1]}),
        tmp_path,
        url_template=tmpl,
        progress=False,
    )
    assert man3["status"].tolist() == ["ok"]

    # the cached event files become the long event table that ingest / EventSet read
    events, failures = cached_events(tmp_path)
    es = EventSet.from_frame(events)
    assert failures == []
    assert set(es.obsreg_id) == {"1575_1", "1575_2", "303_7", "303_8", "999_1"}
    counts = dict(zip(es.obsreg_id, es.counts, strict=True))
    assert counts["303_7"] == 57 and counts["1575_2"] == 52
    assert ((es.energy >= 500) & (es.energy <= 7000)).all()


def test_fetch_404_and_bad_table(local_server, tmp_path):
    base, state = local_server
    state.missing_products.add("/products/42/1/regevt")
    man = fetch_products(
        pd.DataFrame({"obsid": [42], "region_id": [1]}),
        tmp_path,
        url_template=base + "/products/{obsid}/{region_id}/{filetype}",
        retries=3,
        backoff_s=0.01,
        progress=False,
    )
    assert man["status"].tolist() == ["failed"] and "HTTP 404" in man["reason"].iloc[0]
    assert state.product_requests["/products/42/1/regevt"] == 1  # not retried
    with pytest.raises(InputError, match="region_id"):
        fetch_products(pd.DataFrame({"obsid": [1]}), tmp_path, source="dets.csv")
    with pytest.raises(InputError, match="missing or non-numeric"):
        fetch_products(pd.DataFrame({"obsid": [1, None], "region_id": [1, 2]}), tmp_path)


def test_fetch_events_cli_writes_cache_and_event_table(local_server, tmp_path):
    from typer.testing import CliRunner

    from serendip.cli import app

    base, _ = local_server
    pd.DataFrame({"obsid": [5, 5], "region_id": [3, 4]}).to_csv(tmp_path / "dets.csv", index=False)
    args = [
        "fetch-events",
        str(tmp_path / "dets.csv"),
        "--cache",
        str(tmp_path / "cache"),
        "--url-template",
        base + "/products/{obsid}/{region_id}/{filetype}",
        "--events-out",
        str(tmp_path / "events.parquet"),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    es = EventSet.read(tmp_path / "events.parquet")
    assert sorted(es.obsreg_id) == ["5_3", "5_4"] and es.n_events == 53 + 54
    assert sorted(p.name for p in (tmp_path / "cache" / "regevt").rglob("*.fits")) == [
        "acisf00005_0003_regevt3.fits",
        "acisf00005_0004_regevt3.fits",
    ]
    # `serendip ingest` reads the cache folder of event files directly
    res = CliRunner().invoke(
        app, ["ingest", str(tmp_path / "cache" / "regevt"), "--out", str(tmp_path / "ing")]
    )
    assert res.exit_code == 0, res.output
    assert EventSet.read(tmp_path / "ing" / "events.parquet").n_events == 53 + 54
    res = CliRunner().invoke(
        app, ["fetch-events", str(tmp_path / "nope.csv"), "--cache", str(tmp_path / "c2")]
    )
    assert res.exit_code == 2 and "nope.csv" in res.output
