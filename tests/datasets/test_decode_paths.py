"""The fast decoding paths give exactly the frames of the plain ones.

- channels-first output (planar swscale copy where it is exact, else a numpy deinterleave) equals the
  packed (T, H, W, 3) frames transposed, including widths where the planar path is wrong and is not used;
- reading packets from the MP4 index (video_packets.py) gives the demuxer's frames, and files it cannot
  stand in for (B-frames) go back to the demuxer;
- the dataset's camera tensors are those frames, contiguous (T, C, H, W).
"""

from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from tests.conftest import FIXTURES

from robotlearn.datasets import LeRobotDataset, frame_rgb
from robotlearn.datasets.errors import VideoDecodeError
from robotlearn.datasets.frame_rgb import RGBConverter, _planar_is_exact
from robotlearn.datasets.synthetic import write_synthetic_dataset
from robotlearn.datasets.video import DecoderCache, decode_frames, encode_video
from robotlearn.datasets.video_decode import _OpenVideo
from robotlearn.datasets.video_packets import IndexedPackets

PUSHT_VIDEO = FIXTURES / "pusht/videos/observation.image/chunk-000/file-000.mp4"


def textured(n: int, h: int, w: int, seed: int = 0):
    """Frames with sharp coloured edges and noise: any difference in chroma handling or edge columns shows."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        img[: h // 2, (i * 3) % w :] = (200, 30, 90)
        yield img


def windows(n_frames: int, fps: int, count: int = 25, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        i = int(rng.integers(0, n_frames - 3))
        yield [i / fps, (i + 1) / fps, (i + 3) / fps]


@pytest.mark.parametrize("vcodec", ["libsvtav1", "libx264"])
@pytest.mark.parametrize("size", [(32, 48), (48, 70), (96, 96)])  # 70: not a multiple of 16
def test_channels_first_frames_equal_the_packed_frames_transposed(tmp_path, vcodec, size):
    h, w = size
    path = tmp_path / "v.mp4"
    encode_video(textured(20, h, w), path, 10, vcodec=vcodec)
    for times in windows(20, 10, count=8):
        packed = decode_frames(path, times, cache=DecoderCache())
        planar = decode_frames(path, times, cache=DecoderCache(), channels_first=True)
        assert planar.shape == (3, 3, h, w) and planar.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(planar, packed.transpose(0, 3, 1, 2))
        out = np.zeros((3, 3, h, w), np.uint8)
        assert decode_frames(path, times, cache=DecoderCache(), channels_first=True, out=out) is out
        np.testing.assert_array_equal(out, planar)


def test_planar_path_is_not_used_where_it_cannot_be_exact(tmp_path):
    # FFmpeg 8's planar output is wrong past the last multiple of 16 columns, and 10-bit or semi-planar
    # sources convert differently: those frames take the packed path (and still come out channels-first).
    path = tmp_path / "v.mp4"
    encode_video(textured(2, 48, 70), path, 10)
    frame = next(av.open(str(path)).decode(video=0))
    assert _planar_is_exact(frame) is False
    for fmt in ("nv12", "yuv420p10le"):
        assert _planar_is_exact(frame.reformat(width=64, format=fmt)) is False


def test_swscale_writes_into_the_callers_array_where_exact_and_nothing_else_changes(tmp_path, monkeypatch):
    path = tmp_path / "v.mp4"
    encode_video(textured(3, 96, 96), path, 10)
    frames = list(av.open(str(path)).decode(video=0))
    key = frame_rgb._frame_key(frames[0])
    assert frame_rgb._direct_is_exact(key, True) and frame_rgb._direct_is_exact(key, False)
    calls = []
    real_call = frame_rgb._DirectScaler.__call__
    monkeypatch.setattr(
        frame_rgb._DirectScaler, "__call__", lambda self, f, o: calls.append(1) or real_call(self, f, o)
    )
    converter = RGBConverter()
    for frame in frames:
        want = frame.to_ndarray(format="rgb24")
        for channels_first in (True, False):
            buffer = np.zeros(3 * 96 * 96 + 1 + 128, np.uint8)
            start = -buffer.ctypes.data % 64
            for offset in (start, start + 1):  # the second address is unaligned: PyAV's path instead
                buffer[:] = 7
                n = 3 * 96 * 96
                out = buffer[offset : offset + n].reshape((3, 96, 96) if channels_first else (96, 96, 3))
                converter.into(frame, out, channels_first)
                np.testing.assert_array_equal(out.transpose(1, 2, 0) if channels_first else out, want)
                assert (buffer[:offset] == 7).all() and (buffer[offset + n :] == 7).all()
    assert len(calls) == 2 * len(frames)  # the aligned arrays only


def test_swscale_direct_path_is_not_used_where_it_cannot_be_exact(tmp_path):
    path = tmp_path / "v.mp4"
    encode_video(textured(2, 48, 70), path, 10)
    frame = next(av.open(str(path)).decode(video=0))
    assert frame_rgb._direct_is_exact(frame_rgb._frame_key(frame), True) is False  # width 70: planar rows unaligned
    out = np.empty((3, 48, 70), np.uint8)
    RGBConverter().into(frame, out, True)
    np.testing.assert_array_equal(out.transpose(1, 2, 0), frame.to_ndarray(format="rgb24"))


def test_output_array_of_another_size_raises_naming_the_file(tmp_path):
    path = tmp_path / "v.mp4"
    encode_video(textured(4, 32, 48), path, 10)
    with pytest.raises(VideoDecodeError, match="v.mp4.*32.*48|v.mp4.*48x32"):
        decode_frames(path, [0.0], cache=DecoderCache(), channels_first=True, out=np.zeros((1, 3, 16, 16), np.uint8))


def demuxed(path) -> _OpenVideo:
    video = _OpenVideo(str(path), None, 1)
    if video.packets is not None:  # the same file, read through FFmpeg's demuxer instead of the index
        video.packets.close()
        video.packets = None
    return video


@pytest.mark.parametrize("vcodec", ["libsvtav1", "libx264"])
def test_indexed_packets_give_the_demuxers_frames(tmp_path, vcodec):
    path = tmp_path / "v.mp4"
    encode_video(textured(40, 32, 48), path, 10, vcodec=vcodec)
    indexed = _OpenVideo(str(path), None, 1)
    assert indexed.packets is not None
    plain = demuxed(path)
    for times in list(windows(40, 10)) + [[0.0], [3.9], [0.5, 0.5, 0.6], [3.7, 3.8, 3.9]]:
        for channels_first in (False, True):
            np.testing.assert_array_equal(
                indexed.frames_at(times, 1e-4, None, channels_first), plain.frames_at(times, 1e-4, None, channels_first)
            )
    for t in range(39):  # in-order reads continue decoding instead of seeking, with the same frames
        np.testing.assert_array_equal(
            indexed.frames_at([t / 10, (t + 1) / 10], 1e-4, None), plain.frames_at([t / 10, (t + 1) / 10], 1e-4, None)
        )


def test_reference_fixture_reads_the_same_through_its_index():
    indexed = _OpenVideo(str(PUSHT_VIDEO), None, 1)
    assert indexed.packets is not None
    plain = demuxed(PUSHT_VIDEO)
    n = len(indexed.packets.pts)
    for times in windows(n, 10):
        np.testing.assert_array_equal(indexed.frames_at(times, 1e-4, None), plain.frames_at(times, 1e-4, None))


def test_a_file_with_b_frames_is_read_through_the_demuxer(tmp_path):
    path = tmp_path / "b.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10, options={"bf": "2", "g": "8"})
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        for i, img in enumerate(textured(20, 32, 48)):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with av.open(str(path)) as container:
        assert IndexedPackets.open(str(path), container, container.streams.video[0]) is None
    frames = decode_frames(path, [0.3, 1.2], cache=DecoderCache())  # still decodes, through the demuxer
    assert frames.shape == (2, 32, 48, 3)


def test_dataset_camera_tensors_are_contiguous_decoded_frames(tmp_path):
    root = tmp_path / "ds"
    write_synthetic_dataset(root, num_episodes=2, episode_length=10, cameras={"top": (16, 16)})
    ds = LeRobotDataset("x", root=root, delta_timestamps={"observation.images.top": [-0.1, 0.0]}, return_uint8=True)
    item = ds[13]
    frames = item["observation.images.top"]
    assert frames.shape == (2, 3, 16, 16) and frames.dtype == torch.uint8 and frames.is_contiguous()
    ep = ds.meta.episodes[1]
    path = ds.meta.video_file("observation.images.top", ep["videos/observation.images.top/chunk_index"], 0)
    start = ep["videos/observation.images.top/from_timestamp"]
    want = decode_frames(path, [start + 0.2, start + 0.3], cache=DecoderCache()).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(frames.numpy(), want)
    as_float = LeRobotDataset("x", root=root, delta_timestamps={"observation.images.top": [-0.1, 0.0]})[13]
    torch.testing.assert_close(as_float["observation.images.top"], frames.float() / 255, rtol=0, atol=1e-7)
