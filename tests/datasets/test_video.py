"""Camera video I/O: encode, append, probe and decode real MP4 files.

Frames are uniform gray images whose level encodes their index (8 * i), so a decoded frame identifies
itself within a few levels after lossy compression.
"""

import json
import logging
import multiprocessing
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.conftest import FIXTURES

from robotlearn.datasets.errors import DatasetError, FrameTimestampError, VideoDecodeError
from robotlearn.datasets.video import (
    DecoderCache,
    VideoEncoder,
    VideoIncompatibleError,
    append_video,
    decode_frames,
    default_decoder_cache,
    encode_video,
    new_video_file,
    resolve_encoder_options,
    video_duration,
    video_info,
)

PUSHT_VIDEO = FIXTURES / "pusht/videos/observation.image/chunk-000/file-000.mp4"
H, W = 32, 48


def gray(i: int) -> np.ndarray:
    return np.full((H, W, 3), (8 * i) % 256, dtype=np.uint8)


def levels(frames: np.ndarray) -> list[int]:
    """The frame index each decoded frame encodes (mean gray level / 8, rounded)."""
    return [int(round(float(f.mean()) / 8)) for f in frames]


def assert_gray(frames: np.ndarray, indices) -> None:
    want = np.array([(8 * i) % 256 for i in indices], dtype=np.int64)
    got = frames.reshape(len(frames), -1).astype(np.int64)
    assert np.abs(got - want[:, None]).max() <= 3, (levels(frames), list(indices))


def make_episode(path: Path, n: int, start: int = 0, fps: int = 10, **opts) -> Path:
    encode_video((gray(start + i) for i in range(n)), path, fps, **opts)
    return path


def test_encode_then_decode_every_frame_at_its_timestamp(tmp_path):
    path = make_episode(tmp_path / "ep.mp4", 12)
    frames = decode_frames(path, [i / 10 for i in range(12)], cache=DecoderCache())
    assert frames.shape == (12, H, W, 3) and frames.dtype == np.uint8
    assert_gray(frames, range(12))
    # Out of order and repeated requests come back in the order asked.
    assert_gray(decode_frames(path, [0.7, 0.2, 0.2, 1.1], cache=DecoderCache()), [7, 2, 2, 11])


def test_stream_layout_matches_the_reference_convention(tmp_path):
    import av

    path = make_episode(tmp_path / "ep.mp4", 6)
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        packets = [(p.pts * s.time_base, p.is_keyframe) for p in c.demux(s) if p.size]
    assert [float(t) for t, _ in packets] == [i / 10 for i in range(6)]  # pts = frame index / fps from 0
    assert [k for _, k in packets] == [True, False] * 3  # g=2
    assert video_duration(path) == pytest.approx(0.6, abs=1e-12)


def test_h264_encodes_and_decodes_without_b_frames(tmp_path):
    import av

    path = make_episode(tmp_path / "ep.mp4", 9, vcodec="h264")
    assert_gray(decode_frames(path, [i / 10 for i in range(9)], cache=DecoderCache()), range(9))
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.codec_context.codec.canonical_name == "h264"
        packets = [p for p in c.demux(s) if p.size]
        assert all(p.pts == p.dts for p in packets)  # no reordering: no B-frames
    info = video_info(path, resolve_encoder_options("h264"))
    assert info["video.codec"] == "h264" and info["video.crf"] == 23 and info["video.g"] == 2


def test_video_info_has_the_fixture_keys_and_values(tmp_path):
    fixture = json.loads((FIXTURES / "pusht/meta/info.json").read_text())["features"]["observation.image"]["info"]
    ours = video_info(PUSHT_VIDEO, resolve_encoder_options())
    assert list(ours) == list(fixture)
    assert ours == fixture
    path = make_episode(tmp_path / "ep.mp4", 4, fps=30)
    enc_info = video_info(path, resolve_encoder_options())
    assert (enc_info["video.height"], enc_info["video.width"], enc_info["video.fps"]) == (H, W, 30)
    assert enc_info["video.codec"] == "av1" and enc_info["video.pix_fmt"] == "yuv420p"
    # Options left at None are reported with the encoder's defaults, as the reference records them.
    unresolved = video_info(path, {"vcodec": "libsvtav1", "g": 2, "crf": None, "preset": None})
    assert (unresolved["video.crf"], unresolved["video.preset"], unresolved["video.g"]) == (30, 12, 2)
    assert "vcodec" not in unresolved


def test_video_duration_matches_reference_episode_table():
    episodes = pq.read_table(FIXTURES / "rollover/meta/episodes/chunk-000/file-000.parquet").to_pydict()
    for key in ("observation.images.front", "observation.images.side"):
        last_to = {}
        for c, f, to in zip(
            episodes[f"videos/{key}/chunk_index"],
            episodes[f"videos/{key}/file_index"],
            episodes[f"videos/{key}/to_timestamp"],
        ):
            last_to[(c, f)] = to
        for (c, f), to in last_to.items():
            path = FIXTURES / f"rollover/videos/{key}/chunk-{c:03d}/file-{f:03d}.mp4"
            assert video_duration(path) == pytest.approx(to, abs=1e-9)


@pytest.mark.parametrize("vcodec", ["libsvtav1", "h264"])
def test_append_episodes_keeps_time_continuous(tmp_path, vcodec):
    lengths = [5, 7, 4]
    cam = tmp_path / "videos/cam/chunk-000/file-000.mp4"
    cache = DecoderCache()
    starts, froms, start = [], [], 0
    for e, n in enumerate(lengths):
        ep = make_episode(tmp_path / f"ep{e}.mp4", n, start=start, vcodec=vcodec)
        if e == 0:
            froms.append(new_video_file(cam, ep))
            assert not ep.exists()
        else:
            decode_frames(cam, [0.0], cache=cache)  # keep the file open in the cache across the append
            froms.append(append_video(cam, ep))
        starts.append(start)
        start += n
    assert froms == pytest.approx([0.0, 0.5, 1.2], abs=1e-12)
    assert video_duration(cam) == pytest.approx(1.6, abs=1e-12)
    # Every frame of every episode at from_timestamp + t, including both sides of each boundary.
    for e, n in enumerate(lengths):
        times = [froms[e] + k / 10 for k in range(n)]
        assert_gray(decode_frames(cam, times, episode_index=e, cache=cache), range(starts[e], starts[e] + n))
    assert_gray(decode_frames(cam, [0.4, 0.5, 1.1, 1.2], cache=cache), [4, 5, 11, 12])
    assert not list(cam.parent.glob(".*"))  # no temp files left behind


def test_append_refuses_a_different_size(tmp_path):
    cam = make_episode(tmp_path / "cam.mp4", 3)
    other = tmp_path / "other.mp4"
    encode_video([np.zeros((16, 48, 3), np.uint8)] * 3, other, 10)
    before = cam.read_bytes()
    with pytest.raises(VideoIncompatibleError, match="height: 32 vs 16"):
        append_video(cam, other)
    assert cam.read_bytes() == before


def test_decodes_reference_fixture_like_the_reference():
    from safetensors.numpy import load_file

    expected = load_file(FIXTURES / "pusht.expected.safetensors")
    query = json.loads((FIXTURES / "pusht.expected.json").read_text())
    assert query["delta_timestamps"]["observation.image"] == [-0.1, 0.0]
    ep = pq.read_table(FIXTURES / "pusht/meta/episodes/chunk-000/file-000.parquet").to_pydict()
    cache = DecoderCache()
    for index in query["indices"]:
        e = max(k for k, start in enumerate(ep["dataset_from_index"]) if start <= index)
        frame_index, length = index - ep["dataset_from_index"][e], ep["length"][e]
        # The window [-0.1, 0] is padded with the episode's edge frame.
        times = [
            ep["videos/observation.image/from_timestamp"][e] + min(max(frame_index + d, 0), length - 1) / 10
            for d in (-1, 0)
        ]
        got = decode_frames(PUSHT_VIDEO, times, episode_index=e, cache=cache).transpose(0, 3, 1, 2)
        want = expected[f"{index}/observation.image"]
        assert got.shape == want.shape
        assert np.abs(got.astype(np.int16) - want).max() <= 2, index


def test_in_order_reads_equal_random_reads(tmp_path):
    path = make_episode(tmp_path / "ep.mp4", 20)
    sequential = DecoderCache()
    for i in range(20):
        window = [max(i - 2, 0) / 10, max(i - 1, 0) / 10, i / 10]
        a = decode_frames(path, window, cache=sequential)
        b = decode_frames(path, window, cache=DecoderCache())
        np.testing.assert_array_equal(a, b)
        assert_gray(a, [max(i - 2, 0), max(i - 1, 0), i])
    # Jumping back after in-order reads seeks again.
    assert_gray(decode_frames(path, [0.3], cache=sequential), [3])


def test_time_between_frames_raises_frame_timestamp_error(tmp_path):
    path = make_episode(tmp_path / "ep.mp4", 6)
    with pytest.raises(FrameTimestampError) as err:
        decode_frames(path, [0.25], tolerance_s=1e-4, episode_index=3, cache=DecoderCache())
    msg = str(err.value)
    assert str(path) in msg and "episode 3" in msg and "0.250000" in msg and "tolerance_s" in msg
    assert "0.200000" in msg or "0.300000" in msg
    assert isinstance(err.value, ValueError)
    # A loose tolerance accepts the nearest frame.
    assert_gray(decode_frames(path, [0.26], tolerance_s=0.05, cache=DecoderCache()), [3])


def test_time_beyond_the_end_raises_naming_the_file(tmp_path):
    path = make_episode(tmp_path / "ep.mp4", 6)
    with pytest.raises(FrameTimestampError, match="outside the video") as err:
        decode_frames(path, [0.5, 0.6], cache=DecoderCache())
    assert str(path) in str(err.value) and "0.500000" in str(err.value)
    with pytest.raises(FrameTimestampError, match="outside the video"):
        decode_frames(path, [-0.1], cache=DecoderCache())


def test_missing_file_error_names_the_file(tmp_path):
    missing = tmp_path / "videos/cam/chunk-000/file-007.mp4"
    with pytest.raises(VideoDecodeError, match="file-007.mp4.*not found"):
        decode_frames(missing, [0.0], episode_index=2)
    with pytest.raises(VideoDecodeError, match="not found"):
        video_duration(missing)


def test_truncated_file_errors_name_the_file(tmp_path):
    full = make_episode(tmp_path / "ep.mp4", 40)
    data = full.read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoDecodeError) as err:
        decode_frames(half, [3.9], cache=DecoderCache())
    assert str(half) in str(err.value) and "truncated" in str(err.value)
    # Cut inside the frame data (our files keep the index at the front): early frames still decode.
    mdat = data.index(b"mdat")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: mdat + (len(data) - mdat) // 2])
    cache = DecoderCache()
    assert_gray(decode_frames(cut, [0.0, 0.1], cache=cache), [0, 1])
    with pytest.raises(VideoDecodeError, match="cut.mp4.*truncated"):
        decode_frames(cut, [3.8, 3.9], episode_index=0, cache=cache)
    assert_gray(decode_frames(cut, [0.2], cache=cache), [2])  # the cache recovers after the error
    stub = tmp_path / "stub.mp4"
    stub.write_bytes(data[:100])  # not even the index
    with pytest.raises(VideoDecodeError, match="stub.mp4"):
        decode_frames(stub, [0.0], cache=DecoderCache())
    with pytest.raises(VideoDecodeError, match="stub.mp4"):
        video_info(stub, {})


def _child_decode(path, queue):
    try:
        frames = decode_frames(path, [0.1, 0.5, 0.9])
        queue.put(levels(frames))
    except BaseException as exc:  # report instead of dying silently
        queue.put(repr(exc))


def test_forked_child_decodes_after_parent_did(tmp_path):
    path = make_episode(tmp_path / "ep.mp4", 10)
    assert_gray(decode_frames(path, [0.2, 0.3]), [2, 3])  # the default cache now holds an open file
    assert len(default_decoder_cache()) >= 1
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_decode, args=(path, queue))
    child.start()
    result = queue.get(timeout=30)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert result == [1, 5, 9]
    # The parent's open file was not disturbed by the child.
    assert_gray(decode_frames(path, [0.4, 0.8]), [4, 8])


def test_cache_is_bounded(tmp_path, monkeypatch):
    paths = [make_episode(tmp_path / f"ep{i}.mp4", 2, start=i) for i in range(3)]
    cache = DecoderCache(max_open=2)
    for i, p in enumerate(paths):
        assert_gray(decode_frames(p, [0.0], cache=cache), [i])
    assert len(cache) == 2
    monkeypatch.setenv("ROBOTLEARN_VIDEO_DECODER_CACHE_SIZE", "5")
    assert DecoderCache().max_open == 5
    monkeypatch.setenv("ROBOTLEARN_VIDEO_DECODER_CACHE_SIZE", "many")
    with pytest.raises(ValueError, match="ROBOTLEARN_VIDEO_DECODER_CACHE_SIZE"):
        DecoderCache()


class SlowEncoder(VideoEncoder):
    """An encoder whose thread takes 5 ms per frame, far slower than frames arrive."""

    def _take(self):
        time.sleep(0.005)
        return super()._take()


def test_full_queue_spills_to_disk_and_keeps_every_frame_in_order(tmp_path, caplog):
    path = tmp_path / "ep.mp4"
    spill = tmp_path / "spill"
    enc = SlowEncoder(path, fps=10, max_queue_frames=2, spill_dir=spill)
    with caplog.at_level(logging.WARNING, logger="robotlearn.datasets.video_encode"):
        for i in range(60):
            enc.add_frame(gray(i))
    assert enc.frames_spilled > 0
    enc.close()
    warnings = [r for r in caplog.records if "fell behind" in r.getMessage()]
    assert len(warnings) == 1 and str(path) in warnings[0].getMessage()
    assert enc.frames_written == 60
    assert video_duration(path) == pytest.approx(6.0)
    assert levels(decode_frames(path, [i / 10 for i in range(60)], cache=DecoderCache())) == [
        (8 * i % 256) // 8 for i in range(60)
    ]
    assert not any(spill.iterdir())  # spilled frames are removed once encoded


def test_block_mode_waits_for_the_encoder_instead_of_spilling(tmp_path):
    enc = SlowEncoder(tmp_path / "ep.mp4", fps=10, max_queue_frames=2, when_full="block")
    for i in range(20):
        enc.add_frame(gray(i))
    enc.close()
    assert enc.frames_spilled == 0 and enc.frames_written == 20
    assert_gray(decode_frames(tmp_path / "ep.mp4", [i / 10 for i in range(20)], cache=DecoderCache()), range(20))
    assert [p.name for p in tmp_path.iterdir()] == ["ep.mp4"]


def test_close_is_atomic_and_abort_leaves_nothing(tmp_path):
    path = tmp_path / "ep.mp4"
    enc = VideoEncoder(path, fps=10)
    enc.add_frame(gray(0))
    enc.add_frame(gray(1))
    assert not path.exists()  # only the hidden partial file exists until close()
    enc.close()
    assert path.exists() and enc.frames_written == 2
    enc.close()  # idempotent

    aborted = tmp_path / "aborted.mp4"
    enc = VideoEncoder(aborted, fps=10, max_queue_frames=1)
    for i in range(5):
        enc.add_frame(gray(i))
    enc.abort()
    assert list(tmp_path.iterdir()) == [path]
    with pytest.raises(DatasetError, match="after close"):
        enc.add_frame(gray(0))


def test_frame_checks_name_the_problem(tmp_path):
    enc = VideoEncoder(tmp_path / "ep.mp4", fps=10)
    with pytest.raises(ValueError, match="33x48.*even"):
        enc.add_frame(np.zeros((33, 48, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        enc.add_frame(np.zeros((32, 48, 3), np.float32))
    enc.add_frame(gray(0))
    with pytest.raises(ValueError, match="differs from the first frame"):
        enc.add_frame(np.zeros((16, 48, 3), np.uint8))
    enc.abort()
    with pytest.raises(ValueError, match="hevc"):
        VideoEncoder(tmp_path / "x.mp4", fps=10, vcodec="hevc")


def test_encoder_thread_failure_surfaces_at_close(tmp_path):
    out_dir = tmp_path / "gone"
    enc = VideoEncoder(out_dir / "ep.mp4", fps=10)
    shutil.rmtree(out_dir)  # the encoder cannot create its output file
    enc.add_frame(gray(0))
    with pytest.raises(DatasetError, match="ep.mp4: video encoding failed"):
        enc.close()


def test_close_without_frames_raises(tmp_path):
    enc = VideoEncoder(tmp_path / "ep.mp4", fps=10)
    with pytest.raises(DatasetError, match="without any frame"):
        enc.close()
    assert not os.listdir(tmp_path)


def test_decode_through_a_file_object_opener(tmp_path):
    path = make_episode(tmp_path / "ep.mp4", 6)
    opened = []

    def opener():
        f = open(path, "rb")
        opened.append(f)
        return f

    cache = DecoderCache()
    key = "remote://bucket/ep.mp4"
    assert_gray(decode_frames(key, [0.1, 0.4], cache=cache, opener=opener), [1, 4])
    assert_gray(decode_frames(key, [0.5], cache=cache, opener=opener), [5])
    assert len(opened) == 1  # opened once, then served from the cache
    cache.clear()
    assert opened[0].closed


def test_threads_sharing_a_small_cache_get_correct_frames(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    paths = [make_episode(tmp_path / f"ep{i}.mp4", 8, start=10 * i) for i in range(3)]
    cache = DecoderCache(max_open=1)  # every call evicts another thread's file

    def read(job):
        f, k = job
        return levels(decode_frames(paths[f], [k / 10, (k + 1) / 10], cache=cache))

    jobs = [(j % 3, j % 7) for j in range(90)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(read, jobs))
    assert results == [[10 * f + k, 10 * f + k + 1] for f, k in jobs]


def test_add_frame_keeps_the_frame_as_it_was_when_the_caller_reuses_its_array(tmp_path):
    # Cameras often fill one buffer again and again: add_frame copies it (into a recycled buffer).
    enc = SlowEncoder(tmp_path / "ep.mp4", fps=10, max_queue_frames=3, spill_dir=tmp_path / "spill")
    buffer = np.empty((H, W, 3), dtype=np.uint8)
    for i in range(30):
        buffer[...] = gray(i)
        enc.add_frame(buffer)
    enc.close()
    assert enc.frames_written == 30
    assert_gray(decode_frames(tmp_path / "ep.mp4", [i / 10 for i in range(30)], cache=DecoderCache()), range(30))


def test_on_frame_sees_every_frame_in_order_in_the_encoder_thread(tmp_path):
    seen, threads = [], set()

    def on_frame(frame):
        seen.append(int(frame[0, 0, 0]))
        threads.add(threading.current_thread().name)

    enc = SlowEncoder(tmp_path / "ep.mp4", fps=10, max_queue_frames=2, on_frame=on_frame)
    for i in range(12):
        enc.add_frame(gray(i))
    enc.close()
    assert seen == [8 * i for i in range(12)]
    assert threads == {enc._thread.name}


def test_encoder_opened_before_its_first_frame_refuses_another_size(tmp_path):
    enc = VideoEncoder(tmp_path / "ep.mp4", fps=10, frame_shape=(H, W, 3))
    with pytest.raises(ValueError, match="differs"):
        enc.add_frame(np.zeros((H + 2, W, 3), np.uint8))
    for i in range(3):
        enc.add_frame(gray(i))
    enc.close()
    assert_gray(decode_frames(tmp_path / "ep.mp4", [0.0, 0.1, 0.2], cache=DecoderCache()), range(3))
    with pytest.raises(ValueError, match="odd"):
        VideoEncoder(tmp_path / "odd.mp4", fps=10, frame_shape=(31, W, 3))


def test_finish_flushes_in_the_background_and_close_completes_the_file(tmp_path):
    encoders = [VideoEncoder(tmp_path / f"{k}.mp4", fps=10) for k in range(3)]
    for i in range(8):
        for enc in encoders:
            enc.add_frame(gray(i))
    for enc in encoders:
        enc.finish()
    with pytest.raises(DatasetError, match="after close"):
        encoders[0].add_frame(gray(9))
    for k, enc in enumerate(encoders):
        enc.close()
        assert enc.frames_written == 8
        assert_gray(decode_frames(tmp_path / f"{k}.mp4", [i / 10 for i in range(8)], cache=DecoderCache()), range(8))


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="thread niceness is a Linux feature")
@pytest.mark.parametrize("vcodec", ["libsvtav1", "libx264"])
def test_encoder_and_codec_threads_run_nicer_than_the_caller(tmp_path, vcodec, monkeypatch):
    from robotlearn.datasets import encoder_threads

    monkeypatch.setitem(encoder_threads.ENCODER_THREADS, "libx264", 2)  # x264 then runs in threads of its own
    shape = (240, 320, 3)  # x264 starts no threads for a frame a few macroblocks high
    before = {int(t) for t in os.listdir("/proc/self/task")}
    enc = VideoEncoder(tmp_path / "ep.mp4", fps=10, vcodec=vcodec, frame_shape=shape)
    for _ in range(3):
        enc.add_frame(np.zeros(shape, np.uint8))
    time.sleep(0.3)

    def stat(tid) -> list[str]:
        return open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()

    started = {int(t) for t in os.listdir("/proc/self/task")} - before
    niceness = {tid: int(stat(tid)[16]) for tid in started}
    policies = {tid: int(stat(tid)[38]) for tid in started}
    base = int(stat(threading.get_native_id())[16])
    enc.close()
    assert len(started) >= 2  # the encoder's thread and the codec's
    # Every thread the encoder started runs nicer than the caller: the encoder's own at the normal policy,
    # the codec's at SCHED_IDLE (run as root, SVT-AV1 asks for SCHED_FIFO priority 99, which would preempt
    # the control loop).
    assert all(v >= min(base + encoder_threads.ENCODER_NICE, 19) for v in niceness.values()), niceness
    assert sorted(set(policies.values())) == [os.SCHED_OTHER, os.SCHED_IDLE], policies
    assert list(policies.values()).count(os.SCHED_OTHER) == 1, policies  # only the encoder's Python thread
    assert int(stat(threading.get_native_id())[16]) == base  # the caller keeps its own


def test_svtav1_with_close_keyframes_holds_few_frames_back_for_the_flush(tmp_path):
    """save_episode waits for each encoder's flush, which encodes the frames SVT-AV1 still holds. With the
    reference's keyframe interval (g=2) our options keep that to a mini-GOP: 60 frames in, at most 16
    still held (SVT-AV1's default structure holds ~30), and the file is the one the default writes."""
    import av

    from robotlearn.datasets.video_encode import _codec_options, resolve_encoder_options

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(60)]

    def held_at_flush(options: dict, path: Path) -> int:
        container = av.open(str(path), "w")
        stream = container.add_stream("libsvtav1", rate=30, options=options)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for k, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = k
            container.mux(stream.encode(vf))
        flushed = stream.encode(None)
        container.mux(flushed)
        container.close()
        return len(flushed)

    ours = _codec_options(resolve_encoder_options("libsvtav1", g=2), threads=1)
    plain = {k: v for k, v in ours.items() if k != "svtav1-params"} | {"svtav1-params": "lookahead=0:lp=1"}
    held_ours = held_at_flush(ours, tmp_path / "ours.mp4")
    held_plain = held_at_flush(plain, tmp_path / "plain.mp4")
    assert held_ours <= 16 < held_plain, (held_ours, held_plain)
    assert (tmp_path / "ours.mp4").read_bytes() == (tmp_path / "plain.mp4").read_bytes()
