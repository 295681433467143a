"""StreamingLeRobotDataset over real loopback servers (HTTP with Range requests, S3 via moto) equals the
map-style reader sample for sample, splits work between workers and ranks, resumes, and survives restarts."""

import json
import logging
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from tests.conftest import FIXTURES
from torch.utils.data import DataLoader

from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.metadata import resolve_in_root
from robotlearn.datasets.remote import RemoteReadError
from robotlearn.datasets.serve import RangeServer
from robotlearn.datasets.streaming import StreamingLeRobotDataset, _round_robin

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def http():
    with RangeServer(FIXTURES) as server:
        yield server


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server in its own process on loopback (like a real one: no server threads in the process that
    forks DataLoader workers), holding the pusht and rollover fixtures in bucket "datasets"."""
    pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        options = {
            "endpoint_url": f"http://127.0.0.1:{port}",
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"region_name": "us-east-1"},
        }
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        fs = s3fs.S3FileSystem(skip_instance_cache=True, **options)
        fs.call_s3("create_bucket", Bucket="datasets")
        for name in ("pusht", "rollover"):
            fs.put(str(FIXTURES / name), f"datasets/{name}", recursive=True)
        yield options
    finally:
        proc.kill()
        proc.wait()


def expected_query(name):
    return json.loads((FIXTURES / f"{name}.expected.json").read_text())


def assert_same_sample(got: dict, want: dict, where: str):
    assert got.keys() == want.keys(), where
    for key, value in want.items():
        if isinstance(value, torch.Tensor):
            assert got[key].dtype == value.dtype and got[key].shape == value.shape, f"{where} {key}"
            assert torch.equal(got[key], value), f"{where} {key}"
        else:
            assert got[key] == value, f"{where} {key}"


def index_of(item) -> int:
    return int(item["index"])


@pytest.mark.parametrize("name", ["pusht", "images", "rollover"])
def test_http_stream_equals_map_style_in_file_order(http, name):
    query = expected_query(name)
    reference = LeRobotDataset("x", root=FIXTURES / name, delta_timestamps=query["delta_timestamps"])
    stream = StreamingLeRobotDataset(
        "x", root=f"{http.url}/{name}", delta_timestamps=query["delta_timestamps"], shuffle=False
    )
    count = 0
    for i, item in enumerate(stream):  # shuffle=False: exact file order, so stream position == map index
        assert_same_sample(item, reference[i], f"{name}[{i}]")
        count += 1
    assert count == len(reference)


def test_s3_stream_equals_map_style_across_rollovers(s3):
    # Episodes on both sides of data-file, chunk and video-file rollovers (FORMAT.md §17's reference bug).
    query = expected_query("rollover")
    episodes = [1, 3, 6]
    reference = LeRobotDataset(
        "x", root=FIXTURES / "rollover", episodes=episodes, delta_timestamps=query["delta_timestamps"]
    )
    stream = StreamingLeRobotDataset(
        "x",
        root="s3://datasets/rollover",
        storage_options=s3,
        episodes=episodes,
        delta_timestamps=query["delta_timestamps"],
        shuffle=True,
        buffer_size=50,
        seed=3,
    )
    by_index = {index_of(reference[i]): i for i in range(len(reference))}
    seen = []
    for item in stream:
        seen.append(index_of(item))
        assert_same_sample(item, reference[by_index[seen[-1]]], f"rollover index {seen[-1]}")
    assert sorted(seen) == sorted(by_index)
    files = {
        (int(e["videos/observation.images.front/chunk_index"]), int(e["videos/observation.images.front/file_index"]))
        for e in (stream.meta.episodes[e] for e in episodes)
    }
    assert len(files) > 1  # the chosen episodes really live in different video files


def test_s3_pusht_uint8_and_metadata(s3):
    stream = StreamingLeRobotDataset(
        "x", root="s3://datasets/pusht", storage_options=s3, shuffle=False, return_uint8=True
    )
    reference = LeRobotDataset("x", root=FIXTURES / "pusht", return_uint8=True)
    assert stream.meta.total_frames == len(reference) and stream.meta.tasks == reference.meta.tasks
    assert set(stream.meta.stats) == set(reference.meta.stats)
    assert "stats/action/mean" not in stream.meta.episode_columns  # episodes table fetched without stats
    for i, item in enumerate(stream):
        assert_same_sample(item, reference[i], f"pusht[{i}]")


def test_shuffle_is_deterministic_per_seed_and_epoch_and_honours_episodes(http):
    def order(seed, epoch, **kw):
        ds = StreamingLeRobotDataset("x", root=f"{http.url}/images", seed=seed, buffer_size=16, **kw)
        ds.set_epoch(epoch)
        return [index_of(item) for item in ds]

    first = order(0, 0)
    assert first == order(0, 0)
    assert sorted(first) == list(range(63))
    assert first != sorted(first)
    assert order(0, 1) != first and order(1, 0) != first
    subset = order(0, 0, episodes=[1, 2])
    reference = LeRobotDataset("x", root=FIXTURES / "images", episodes=[1, 2])
    assert sorted(subset) == sorted(index_of(reference[i]) for i in range(len(reference)))
    in_order = StreamingLeRobotDataset("x", root=f"{http.url}/images", shuffle=False)
    assert [index_of(item) for item in in_order] == list(range(63))


def test_dataloader_workers_and_ranks_cover_every_frame_once(http):
    root = f"{http.url}/pusht"
    loader = DataLoader(StreamingLeRobotDataset("x", root=root, buffer_size=20), batch_size=8, num_workers=2)
    seen = torch.cat([batch["index"] for batch in loader]).tolist()
    assert sorted(seen) == list(range(241))

    # Fewer episodes than workers x ranks: frames are split within the episode and every shard works.
    shards = []
    for rank in range(2):
        ds = StreamingLeRobotDataset("x", root=root, episodes=[2], rank=rank, world_size=2, buffer_size=8)
        assert all(ds.shard_size(0, rank * 2 + w, 4) > 0 for w in range(2))
        shards.append(torch.cat([b["index"] for b in DataLoader(ds, batch_size=5, num_workers=2)]).tolist())
    reference = LeRobotDataset("x", root=FIXTURES / "pusht", episodes=[2])
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == [index_of(reference[i]) for i in range(len(reference))]


def test_set_epoch_reaches_persistent_workers(http):
    def epoch_order(loader):
        return torch.cat([b["index"] for b in loader]).tolist()

    ds = StreamingLeRobotDataset("x", root=f"{http.url}/images", buffer_size=8)
    persistent = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True)
    first = epoch_order(persistent)
    ds.set_epoch(1)
    second = epoch_order(persistent)
    fresh = StreamingLeRobotDataset("x", root=f"{http.url}/images", buffer_size=8)
    fresh.set_epoch(1)
    assert second == epoch_order(DataLoader(fresh, batch_size=4, num_workers=2))
    assert second != first and sorted(second) == sorted(first) == list(range(63))


def test_state_dict_resume_in_process(http):
    def make():
        return StreamingLeRobotDataset("x", root=f"{http.url}/images", buffer_size=10, seed=5)

    full = make()
    full.set_epoch(2)
    clean = [index_of(item) for item in full]
    ds = make()
    ds.set_epoch(2)
    it = iter(ds)
    head = [index_of(next(it)) for _ in range(25)]
    state = json.loads(json.dumps(ds.state_dict()))  # plain JSON
    resumed = make()
    resumed.load_state_dict(state)
    assert resumed.epoch == 2
    assert head + [index_of(item) for item in resumed] == clean
    with pytest.raises(ValueError, match="seed"):
        StreamingLeRobotDataset("x", root=f"{http.url}/images", buffer_size=10, seed=6).load_state_dict(state)


def test_state_dict_resume_with_dataloader_workers(http):
    def loader():
        ds = StreamingLeRobotDataset("x", root=f"{http.url}/images", buffer_size=8, seed=1)
        return ds, DataLoader(ds, batch_size=4, num_workers=2)

    ds, dl = loader()
    consumed = []
    for batch in dl:
        consumed += batch["index"].tolist()
        if len(consumed) == 20:
            break
    state = ds.state_dict(samples_consumed=len(consumed), loader=dl)
    assert sum(state["taken"]) == 20 and len(state["taken"]) == 2

    ds2, dl2 = loader()
    ds2.load_state_dict(state)
    more = []
    for batch in dl2:  # restart, then stop again after two more batches: state counts the whole epoch
        more += batch["index"].tolist()
        if len(more) == 8:
            break
    state2 = ds2.state_dict(samples_consumed=len(consumed) + len(more), loader=dl2)
    ds3, dl3 = loader()
    ds3.load_state_dict(state2)
    rest = [i for batch in dl3 for i in batch["index"].tolist()]
    everything = consumed + more + rest
    assert sorted(everything) == list(range(63)), "a sample was repeated or skipped across restarts"

    with pytest.raises(ValueError, match="num_workers"):
        ds4, _ = loader()
        ds4.load_state_dict(state)
        next(iter(ds4))  # resumed in-process: num_workers 0 != 2


def test_round_robin_matches_dataloader_interleaving():
    # Two workers with 5 and 3 samples, batches of 2: the loader yields w0 w1 w0 w1 w0(1 left) ...
    assert _round_robin(8, [5, 3], 2, False) == [5, 3]
    assert _round_robin(6, [5, 3], 2, False) == [4, 2]
    assert _round_robin(7, [5, 3], 2, False) == [4, 3]
    assert _round_robin(4, [5, 3], 2, True) == [2, 2]
    with pytest.raises(ValueError, match="batch boundary"):
        _round_robin(3, [5, 3], 2, False)


def test_server_restart_mid_epoch_completes_the_epoch(caplog):
    reference = LeRobotDataset(
        "x", root=FIXTURES / "pusht", delta_timestamps=expected_query("pusht")["delta_timestamps"]
    )
    server = RangeServer(FIXTURES).start()
    try:
        # Tiny blocks and caches so that reading keeps needing the network after the stop.
        ds = StreamingLeRobotDataset(
            "x",
            root=f"{server.url}/pusht",
            delta_timestamps=expected_query("pusht")["delta_timestamps"],
            shuffle=False,
            block_size=2048,
            max_retries=12,
            backoff_s=0.05,
            max_open_videos=1,
        )
        got = []
        restarted = threading.Event()
        with caplog.at_level(logging.WARNING, logger="robotlearn.datasets.remote"):
            for item in ds:
                got.append(item)
                if len(got) == 60:
                    server.stop()

                    def restart():
                        time.sleep(1.0)
                        server.start()  # same port
                        restarted.set()

                    threading.Thread(target=restart, daemon=True).start()
        assert restarted.is_set()
        assert any("retry" in r.getMessage() for r in caplog.records), "the outage was never noticed"
        assert len(got) == len(reference)
        for i, item in enumerate(got):
            assert_same_sample(item, reference[i], f"pusht[{i}]")
    finally:
        server.stop()


def test_clear_error_naming_the_url_when_the_server_never_returns():
    server = RangeServer(FIXTURES).start()
    url = f"{server.url}/pusht"
    try:
        ds = StreamingLeRobotDataset(
            "x", root=url, shuffle=False, block_size=2048, max_retries=2, backoff_s=0.01, max_open_videos=1
        )
        it = iter(ds)
        for _ in range(5):
            next(it)
        server.stop()
        with pytest.raises(RemoteReadError, match=rf"{url}/(data|videos)/.*after 3 attempts"):
            for _ in it:
                pass
    finally:
        server.stop()
    with pytest.raises(RemoteReadError, match=rf"{url}/meta/info.json"):
        StreamingLeRobotDataset("x", root=url, max_retries=1, backoff_s=0.01)


def test_a_server_that_never_answers_times_out_and_is_retried():
    with socket.socket() as silent:  # accepts connections (kernel backlog) but never responds
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/ds"
        with pytest.raises(RemoteReadError, match=rf"{url}/meta/info.json: could not open after 2 attempts.*Timeout"):
            StreamingLeRobotDataset("x", root=url, timeout_s=0.3, max_retries=1, backoff_s=0.01)


def test_missing_dataset_and_escaping_paths_are_format_errors(http):
    with pytest.raises(DatasetFormatError, match=r"nothing-here/meta/info.json: file not found"):
        StreamingLeRobotDataset("x", root=f"{http.url}/nothing-here", max_retries=0)
    with pytest.raises(DatasetFormatError, match="outside the dataset root"):
        resolve_in_root("s3://bucket/ds", "../other/data.parquet", "data_path")
    assert resolve_in_root("s3://bucket/ds", "data/./a.parquet", "data_path") == "s3://bucket/ds/data/a.parquet"


def test_local_root_streams_too():
    stream = StreamingLeRobotDataset("x", root=FIXTURES / "images", shuffle=False)
    reference = LeRobotDataset("x", root=FIXTURES / "images")
    items = list(stream)
    assert len(items) == len(reference)
    assert_same_sample(items[10], reference[10], "images[10]")
    assert np.array_equal(stream.meta.episode_columns["length"], reference.meta.episode_columns["length"])
