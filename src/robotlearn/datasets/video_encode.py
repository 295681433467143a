"""Writing camera videos: per-episode MP4 encoding while recording, appending episodes to a camera file,
and probing a file's duration and `info` block.

Format rules (FORMAT.md §4.3, §8.2, §9): one MP4 per camera per file index; frames carry pts = frame
number in a 1/fps time base starting at 0; episodes are appended by remuxing packets (no re-encode), so
an episode whose first frame lands at file time `from_timestamp` has its frame at episode time t at file
time `from_timestamp + t`.

Recording flow for one camera and one episode:

    enc = VideoEncoder(tmp_dir / "episode.mp4", fps=30)
    for frame in camera:            # HWC uint8 RGB
        enc.add_frame(frame)        # returns in ~0.1 ms; never drops a frame
    enc.close()                     # finishes encoding, atomically renames to the path
    duration = video_duration(tmp_dir / "episode.mp4")
    from_ts = append_video(camera_file, tmp_dir / "episode.mp4")   # or new_video_file(...) -> 0.0
    to_ts = from_ts + duration
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from robotlearn.datasets.encoder_threads import (
    ENCODER_THREADS,
    demote_codec_threads,
    lower_thread_priority,
    thread_ids,
)
from robotlearn.datasets.errors import DatasetError, DatasetFormatError, VideoDecodeError
from robotlearn.datasets.metadata import fsync_dir, fsync_file

# SVT-AV1 prints a banner of ~20 lines per encoder to stderr unless told otherwise (1 = errors only).
os.environ.setdefault("SVT_LOG", "1")

import av
from av.video.reformatter import VideoReformatter

logger = logging.getLogger(__name__)

# Canonical encoder name -> defaults. Aliases map onto these names.
# crf: libsvtav1 uses the reference's 30 (AV1 scale 0-63); libx264 uses x264's own default 23 (scale 0-51),
# since crf 30 on x264 is visibly blurrier than crf 30 on AV1.
# preset: 12 (fastest) for libsvtav1 as the reference; "veryfast" for libx264, which keeps up with three
# 480x640 cameras at 30 fps on two cores (see benchmarks/bench_video.py).
ENCODER_DEFAULTS = {
    "libsvtav1": {"crf": 30, "preset": 12},
    "libx264": {"crf": 23, "preset": "veryfast"},
}
CODEC_ALIASES = {
    "libsvtav1": "libsvtav1",
    "av1": "libsvtav1",
    "svtav1": "libsvtav1",
    "libx264": "libx264",
    "h264": "libx264",
    "x264": "libx264",
}
SUPPORTED_PIX_FMTS = ("yuv420p",)
PREFAULTED_BUFFERS = 4  # frame buffers an encoder opened ahead of its first frame prepares (see _run)
MP4_OPTIONS = {"movflags": "faststart"}  # index at the front: a reader can start before the whole file arrives


class VideoIncompatibleError(DatasetError, ValueError):
    """Two videos cannot be concatenated: codec, size, pixel format or fps differ."""


def resolve_encoder_options(
    vcodec: str = "libsvtav1",
    pix_fmt: str = "yuv420p",
    g: int | None = 2,
    crf: int | None = None,
    preset: int | str | None = None,
) -> dict:
    """Canonical encoder settings with defaults filled in; also the `encoder_options` for `video_info`.

    Returns {"vcodec", "pix_fmt", "g", "crf", "preset", "fast_decode", "video_backend", "extra_options"}.
    Raises ValueError for an unsupported codec or pixel format (hevc is refused: its seeking misbehaves
    with the FFmpeg build we ship against).
    """
    name = CODEC_ALIASES.get(str(vcodec).lower())
    if name is None:
        raise ValueError(
            f"vcodec={vcodec!r} is not supported; use one of {sorted(CODEC_ALIASES)} "
            "('libsvtav1' is the LeRobot default, 'h264' encodes ~3x faster)"
        )
    if pix_fmt not in SUPPORTED_PIX_FMTS:
        raise ValueError(f"pix_fmt={pix_fmt!r} is not supported; use one of {SUPPORTED_PIX_FMTS}")
    if g is not None and int(g) < 1:
        raise ValueError(f"g (keyframe interval) must be >= 1, got {g}")
    defaults = ENCODER_DEFAULTS[name]
    return {
        "vcodec": name,
        "pix_fmt": pix_fmt,
        "g": None if g is None else int(g),
        "crf": defaults["crf"] if crf is None else int(crf),
        "preset": defaults["preset"] if preset is None else preset,
        "fast_decode": 0,
        "video_backend": "pyav",
        "extra_options": {},
    }


def _codec_options(opts: dict, threads: int | None = None) -> dict[str, str]:
    """FFmpeg private options for the chosen encoder; `threads` bounds its worker threads (None: its default)."""
    out = {"crf": str(opts["crf"]), "preset": str(opts["preset"])}
    if opts["g"] is not None:
        out["g"] = str(opts["g"])
    if opts["vcodec"] == "libx264":
        out["bf"] = "0"  # no B-frames: decode order = display order, so a seek decodes no extra frames
        if threads is not None:
            out["threads"] = str(threads)
    else:
        # No look-ahead: what SVT-AV1 holds back to look ahead it encodes only when the episode is flushed,
        # which save_episode waits for (480x640 preset 12: flush 0.08 s instead of 0.11 s per camera, same
        # size and error). With keyframes at most 8 frames apart, 2 hierarchical levels (mini-GOPs of 4
        # frames, not 32) give a bit-identical file but hold back fewer frames: flush 0.07 s instead of
        # 0.14-0.18 s per camera (benchmarks/bench_dataset.py --only recording). "lp": its parallelism.
        params = ["lookahead=0"]
        if opts["g"] is not None and int(opts["g"]) <= 8:
            params.append("hierarchical-levels=2")
        params += [f"lp={threads}"] if threads is not None else []
        out["svtav1-params"] = ":".join(params)
    return out


class VideoEncoder:
    """Encode one camera's frames of one episode into an MP4, in a background thread.

    Args:
        path: output file. Written as a hidden temp file next to it and renamed on `close()`.
        fps: frames per second; frame k gets pts k in a 1/fps time base.
        vcodec: "libsvtav1" (AV1, default, aliases "av1") or "libx264" (aliases "h264").
        pix_fmt: "yuv420p" (frames must have even height and width; odd sizes raise ValueError).
        g: keyframe interval in frames (2 = cheap random access, as the reference).
        crf: quality; None = 30 for libsvtav1, 23 for libx264.
        preset: None = 12 for libsvtav1, "veryfast" for libx264.
        max_queue_frames: frames held in memory waiting for the encoder. When full, further frames are
            written to disk as .npy files (in `spill_dir`, or a temp dir next to `path`) and encoded in
            order later: a frame is never dropped, and `add_frame` never blocks on the encoder.
            The in-memory copies go into buffers the encoder hands back once converted, so recording
            allocates no new memory per frame (fresh pages cost more than the copy itself).
        spill_dir: where spilled frames go (created if needed); None = a hidden temp dir next to `path`.
        when_full: "spill" (default, for live recording: never block the control loop) or "block"
            (wait for the encoder; for offline conversion, as `encode_video` does).
        on_frame: called in the encoder thread with each (H, W, 3) frame, in order, before it is encoded
            (e.g. to accumulate image statistics off the caller's thread); its errors fail the encoder.
        frame_shape: (H, W, 3) of the frames to come, when known: the codec is then opened at once, in the
            background, rather than on the first frame (opening SVT-AV1 holds the GIL for ~10 ms, which a
            control loop's first add_frame would otherwise wait for). Frames of another shape are refused.

    `add_frame` may be called from one thread at a time. Encoder errors surface at the next `add_frame`
    and at `close()` as DatasetError (chained to the FFmpeg error). The codec's threads run ENCODER_NICE
    nicer than the caller (the encoder thread too), ENCODER_THREADS of them per encoder on small machines.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: int,
        vcodec: str = "libsvtav1",
        pix_fmt: str = "yuv420p",
        g: int | None = 2,
        crf: int | None = None,
        preset: int | str | None = None,
        max_queue_frames: int = 60,
        spill_dir: str | os.PathLike | None = None,
        when_full: str = "spill",
        on_frame=None,
        frame_shape: tuple[int, int, int] | None = None,
    ):
        if int(fps) != fps or fps <= 0:
            raise ValueError(f"fps must be a positive integer, got {fps!r}")
        if when_full not in ("spill", "block"):
            raise ValueError(f"when_full must be 'spill' or 'block', got {when_full!r}")
        self.when_full = when_full
        if max_queue_frames < 1:
            raise ValueError(f"max_queue_frames must be >= 1, got {max_queue_frames}")
        self.path = Path(path)
        self.fps = int(fps)
        self.encoder_options = resolve_encoder_options(vcodec, pix_fmt, g, crf, preset)
        self.max_queue_frames = int(max_queue_frames)
        self.on_frame = on_frame
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp_path = self.path.with_name(f".{self.path.name}.partial-{uuid.uuid4().hex[:8]}.mp4")
        self._spill_root = Path(spill_dir) if spill_dir is not None else None
        self._spill_dir: Path | None = None
        self._shape: tuple[int, int, int] | None = None
        if frame_shape is not None:
            self._check_frame(np.empty(frame_shape, dtype=np.uint8))  # sets the shape; odd sizes raise here
        self._open_early = frame_shape is not None

        # The queue holds, in arrival order, either an in-memory frame or the Path of a spilled one.
        self._queue: collections.deque = collections.deque()
        self._in_memory = 0
        self._free: list[np.ndarray] = []  # frame buffers the encoder thread is done with, for add_frame to reuse
        self._cond = threading.Condition()
        self._add_lock = threading.Lock()
        self._closing = self._aborting = self._closed = False
        self._error: BaseException | None = None
        self.frames_added = 0
        self.frames_written = 0  # frames handed to the encoder by the thread
        self.frames_spilled = 0
        self._warned = False
        self._thread = threading.Thread(target=self._run, name=f"VideoEncoder({self.path.name})", daemon=True)
        self._thread.start()

    # ---- caller side ----------------------------------------------------------------------------------
    def add_frame(self, frame: np.ndarray) -> None:
        """Queue one (H, W, 3) uint8 RGB frame (copied once, into a reused buffer). With when_full="spill"
        this never waits for the encoder: ~0.1 ms for 480x640 in memory, a few ms when spilled to disk.

        Raises ValueError for a wrong dtype/shape/odd size, DatasetError if the encoder thread failed."""
        with self._add_lock:
            if self._closed or self._closing or self._aborting:
                raise DatasetError(f"{self.path}: add_frame called after close()/abort() of this VideoEncoder")
            if self._error is not None:
                raise DatasetError(f"{self.path}: video encoding failed: {self._error}") from self._error
            frame = self._check_frame(frame)
            with self._cond:
                if self.when_full == "block":
                    while self._in_memory >= self.max_queue_frames and self._error is None:
                        self._cond.wait()
                    if self._error is not None:
                        raise DatasetError(f"{self.path}: video encoding failed: {self._error}") from self._error
                spill = self._in_memory >= self.max_queue_frames
                if not spill:
                    buf = self._free.pop() if self._free else None
                    self._in_memory += 1  # reserved; appended below
            if not spill:
                # The one copy of the caller's frame (it may reuse its array), made outside the lock. A
                # memoryview copy keeps the GIL: np.copyto releases it for large arrays, and taking it back
                # from an encoder thread can cost the control loop milliseconds.
                if buf is None:
                    buf = np.empty(frame.shape, dtype=np.uint8)
                if frame.flags.c_contiguous:
                    memoryview(buf).cast("B")[:] = memoryview(frame).cast("B")
                else:
                    np.copyto(buf, frame)
                with self._cond:
                    self._queue.append(buf)
                    self._cond.notify_all()
            else:
                # Written outside the lock so the encoder thread keeps draining meanwhile.
                item = self._spill(frame)
                with self._cond:
                    self._queue.append(item)
                    self._cond.notify_all()
            self.frames_added += 1

    def finish(self) -> None:
        """Take no more frames and let the encoder thread drain and flush in the background; `close()` then
        waits for it. Lets several encoders flush at once, and other work overlap with their flushing."""
        with self._add_lock:
            if self._closed:
                return
            with self._cond:
                self._closing = True
                self._cond.notify_all()

    def close(self) -> None:
        """Encode all queued frames, finalize the MP4 and rename it to `path`. Idempotent.

        Raises DatasetError if encoding failed or no frame was added (the partial file is removed).
        """
        self.finish()
        if self._closed:
            return
        self._thread.join()
        self._closed = True
        try:
            if self._error is not None:
                raise DatasetError(f"{self.path}: video encoding failed: {self._error}") from self._error
            if self.frames_added == 0:
                raise DatasetError(f"{self.path}: VideoEncoder closed without any frame; nothing to write")
            fsync_file(self._tmp_path)
            os.replace(self._tmp_path, self.path)
            fsync_dir(self.path.parent)
        finally:
            self._cleanup()

    def abort(self) -> None:
        """Stop encoding and delete the partial output and spilled frames. No-op after a successful close."""
        with self._add_lock:
            if self._closed:
                return
            with self._cond:
                self._aborting = True
                self._cond.notify_all()
        self._thread.join()
        self._closed = True
        self._cleanup()

    def __enter__(self) -> VideoEncoder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _check_frame(self, frame: np.ndarray) -> np.ndarray:
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            desc = f"{type(frame).__name__} {getattr(frame, 'dtype', '')} {getattr(frame, 'shape', '')}"
            raise ValueError(f"{self.path}: add_frame expects an (H, W, 3) uint8 RGB array, got {desc}")
        if self._shape is None:
            h, w = frame.shape[:2]
            if h % 2 or w % 2:
                raise ValueError(
                    f"{self.path}: frame size {h}x{w} (HxW) is odd; {self.encoder_options['pix_fmt']} "
                    "needs even height and width. Crop or resize the camera image to an even size."
                )
            self._shape = frame.shape
        elif frame.shape != self._shape:
            raise ValueError(
                f"{self.path}: frame shape {frame.shape} differs from the first frame's {self._shape}; "
                "a camera's resolution must stay fixed within an episode"
            )
        return frame

    def _spill(self, frame: np.ndarray) -> Path:
        if self._spill_dir is None:
            if self._spill_root is not None:
                self._spill_root.mkdir(parents=True, exist_ok=True)
            root = self._spill_root or self.path.parent
            self._spill_dir = Path(tempfile.mkdtemp(prefix=f".{self.path.stem}.spill-", dir=root))
        if not self._warned:
            self._warned = True
            logger.warning(
                "%s: video encoding fell behind (%d frames queued in memory); spilling frames to %s. "
                "No frame is lost, but close() will take longer. Use a faster codec or preset "
                "(e.g. vcodec='h264'), fewer or smaller cameras, or a lower fps.",
                self.path,
                self.max_queue_frames,
                self._spill_dir,
            )
        item = self._spill_dir / f"{self.frames_added:08d}.npy"
        np.save(item, frame, allow_pickle=False)
        self.frames_spilled += 1
        return item

    def _cleanup(self) -> None:
        self._tmp_path.unlink(missing_ok=True)
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)
        self._queue.clear()

    # ---- encoder thread --------------------------------------------------------------------------------
    def _take(self):
        """Next queued frame (ndarray), or None when closing with an empty queue or aborting."""
        with self._cond:
            while not self._queue and not self._closing and not self._aborting:
                self._cond.wait()
            if self._aborting or not self._queue:
                return None
            item = self._queue.popleft()
            if isinstance(item, np.ndarray):
                self._in_memory -= 1
                self._cond.notify_all()  # room for a blocked add_frame
        if isinstance(item, Path):
            frame = np.load(item, allow_pickle=False)
            item.unlink()
            return frame
        return item

    def _recycle(self, buf: np.ndarray) -> None:
        """Give a frame buffer back for add_frame to fill again (at most max_queue_frames are kept)."""
        with self._cond:
            if len(self._free) < self.max_queue_frames:
                self._free.append(buf)

    def _run(self) -> None:
        container = stream = None
        lower_thread_priority()  # this thread and the codec's below the control loop (encoder_threads.py)
        before = thread_ids()  # the codec's threads are those started later (see demote_codec_threads)
        try:
            reformatter = VideoReformatter()  # reused: a fresh one per frame costs ~0.2 ms of swscale setup
            if self._open_early:
                container, stream = self._open(self._shape[0], self._shape[1])
                demote_codec_threads(before)
                # Buffers for add_frame to copy into, with their pages already faulted in: a fresh 480x640
                # buffer costs add_frame more than the copy itself (first touch of new memory).
                for _ in range(PREFAULTED_BUFFERS):
                    self._recycle(np.zeros(self._shape, dtype=np.uint8))
            while (frame := self._take()) is not None:
                if container is None:
                    container, stream = self._open(frame.shape[0], frame.shape[1])
                    demote_codec_threads(before)
                if self.on_frame is not None:
                    self.on_frame(frame)
                # Wrapped, not copied; one swscale thread (its automatic threads cost ~4x the CPU at 480x640).
                vf = av.VideoFrame.from_numpy_buffer(frame, format="rgb24")
                vf = reformatter.reformat(vf, format=stream.pix_fmt, threads=1)  # a new frame: yuv420p
                self._recycle(frame)
                vf.pts = self.frames_written
                vf.time_base = Fraction(1, self.fps)
                for packet in stream.encode(vf):
                    container.mux(packet)
                self.frames_written += 1
                demote_codec_threads(before)  # codecs start some threads after opening
            if container is not None and not self._aborting:
                for packet in stream.encode(None):
                    container.mux(packet)
        except BaseException as exc:  # reported by add_frame/close in the caller's thread
            with self._cond:
                self._error = exc
                self._cond.notify_all()
        finally:
            if container is not None:
                try:
                    container.close()
                except Exception as exc:
                    self._error = self._error or exc

    def _open(self, height: int, width: int):
        opts = self.encoder_options
        container = av.open(str(self._tmp_path), mode="w", format="mp4", options=MP4_OPTIONS)
        threads = ENCODER_THREADS.get(opts["vcodec"])
        stream = container.add_stream(opts["vcodec"], rate=self.fps, options=_codec_options(opts, threads))
        stream.width, stream.height, stream.pix_fmt = width, height, opts["pix_fmt"]
        stream.time_base = Fraction(1, self.fps)
        try:
            container.start_encoding()
        except BaseException:
            try:
                container.close()
            except Exception:  # the first error is the one to report
                pass
            raise
        return container, stream


def encode_video(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: int, **options) -> int:
    """Encode (H, W, 3) uint8 RGB frames into an MP4 at `path`; `options` as VideoEncoder. Returns frame count.

    Waits for the encoder when its queue is full (when_full="block") instead of spilling to disk."""
    enc = VideoEncoder(path, fps, **{"when_full": "block", **options})
    try:
        for frame in frames:
            enc.add_frame(frame)
    except BaseException:
        enc.abort()
        raise
    enc.close()
    return enc.frames_written


# ---- probing -----------------------------------------------------------------------------------------------
def _open_input(path: Path):
    if not path.is_file():
        raise VideoDecodeError(f"{path}: video file not found")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as exc:  # a corrupt header can hold undecodable metadata
        raise VideoDecodeError(f"{path}: cannot open video ({exc}); the file is truncated or not an MP4") from exc
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(f"{path}: no video stream in the file")
    return container


def _stream_duration(path: Path, container, stream) -> Fraction:
    if stream.duration is not None and stream.time_base is not None:
        return stream.duration * stream.time_base
    if container.duration is not None:
        return Fraction(container.duration, av.time_base)
    raise VideoDecodeError(f"{path}: the video stream has no duration in its header; the file is likely truncated")


def video_duration(path: str | os.PathLike) -> float:
    """Duration in seconds as stored in the stream header: N frames with pts 0..N-1 at 1/fps give N/fps.

    This is what the reference records as to_timestamp - from_timestamp. Raises VideoDecodeError.
    """
    path = Path(path)
    with _open_input(path) as container:
        return float(_stream_duration(path, container, container.streams.video[0]))


def _stream_props(stream) -> dict:
    cc = stream.codec_context
    rate = stream.base_rate or stream.average_rate or stream.guessed_rate
    return {
        "codec": cc.codec.canonical_name,
        "width": cc.width,
        "height": cc.height,
        "pix_fmt": cc.pix_fmt,
        "fps": float(rate) if rate else None,
        "time_base": stream.time_base,
    }


def video_info(path: str | os.PathLike, encoder_options: dict) -> dict:
    """The `info` block of a video feature for meta/info.json (FORMAT.md §4.3), probed from `path`.

    `encoder_options` is what the file was encoded with (`VideoEncoder.encoder_options`, or any dict with
    keys g, crf, preset; fast_decode, video_backend, extra_options, is_depth_map are optional). If it has
    a "vcodec", crf/preset left None are filled with that encoder's defaults, as VideoEncoder does.
    Raises VideoDecodeError if the file cannot be read.
    """
    path = Path(path)
    if encoder_options.get("vcodec") is not None:
        o = encoder_options
        resolved = resolve_encoder_options(
            o["vcodec"], o.get("pix_fmt") or "yuv420p", o.get("g", 2), o.get("crf"), o.get("preset")
        )
        encoder_options = {**resolved, **{k: v for k, v in o.items() if v is not None}}
    with _open_input(path) as container:
        props = _stream_props(container.streams.video[0])
        has_audio = len(container.streams.audio) > 0
    pix_fmt = props["pix_fmt"]
    return {
        "video.height": props["height"],
        "video.width": props["width"],
        "video.codec": props["codec"],
        "video.pix_fmt": pix_fmt,
        "video.fps": int(round(props["fps"])) if props["fps"] else None,
        "video.channels": 1 if pix_fmt and pix_fmt.startswith("gray") else 3,
        "has_audio": has_audio,
        "video.g": encoder_options.get("g"),
        "video.crf": encoder_options.get("crf"),
        "video.preset": encoder_options.get("preset"),
        "video.fast_decode": encoder_options.get("fast_decode", 0),
        "video.video_backend": encoder_options.get("video_backend", "pyav"),
        "video.extra_options": dict(encoder_options.get("extra_options") or {}),
        "is_depth_map": bool(encoder_options.get("is_depth_map", False)),
    }


# ---- concatenation -----------------------------------------------------------------------------------------
def _check_compatible(dst: Path, a: dict, src: Path, b: dict) -> None:
    diffs = [f"{k}: {a[k]} vs {b[k]}" for k in ("codec", "width", "height", "pix_fmt", "fps") if a[k] != b[k]]
    if diffs:
        raise VideoIncompatibleError(
            f"cannot append {src} to {dst}: {'; '.join(diffs)}. All episodes of a camera file must share codec, "
            "size, pixel format and fps; start a new video file (new_video_file) for different settings."
        )


def append_video(dst: str | os.PathLike, src: str | os.PathLike) -> float:
    """Append episode video `src` to camera file `dst` by copying packets (no re-encode); returns the
    time in seconds at which src's first frame now sits in dst (= dst's duration before appending).

    src's packet timestamps are shifted by that amount so the stream stays continuous; the result
    replaces dst atomically (temp file in dst's directory, fsync, os.replace). src is left in place.
    The whole of dst is rewritten, so the cost grows with dst's size: cap camera files (e.g. 200 MB).
    Raises VideoDecodeError (unreadable input) or VideoIncompatibleError (codec/size/pix_fmt/fps differ).
    """
    dst, src = Path(dst), Path(src)
    if dst.resolve() == src.resolve():
        raise ValueError(f"append_video: dst and src are the same file ({dst})")
    tmp = dst.with_name(f".{dst.name}.append-{uuid.uuid4().hex[:8]}.mp4")
    try:
        with _open_input(dst) as a, _open_input(src) as b:
            sa, sb = a.streams.video[0], b.streams.video[0]
            _check_compatible(dst, _stream_props(sa), src, _stream_props(sb))
            offset = _stream_duration(dst, a, sa)  # seconds, exact
            with av.open(str(tmp), mode="w", format="mp4", options=MP4_OPTIONS) as out:
                so = out.add_stream_from_template(sa, opaque=True)
                so.time_base = sa.time_base
                _copy_packets(dst, a, sa, so, out, Fraction(0))
                _copy_packets(src, b, sb, so, out, offset)
        fsync_file(tmp)
        os.replace(tmp, dst)
        fsync_dir(dst.parent)
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"cannot append {src} to {dst}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return float(offset)


def _copy_packets(path: Path, container, stream, out_stream, out, offset_s: Fraction) -> None:
    shift = offset_s / stream.time_base
    if shift.denominator != 1:
        raise VideoIncompatibleError(
            f"{path}: offset {float(offset_s)} s is not a whole number of "
            f"time-base units ({stream.time_base}); cannot shift packets exactly"
        )
    shift = int(shift)
    for packet in container.demux(stream):
        if packet.size == 0:  # the demuxer's end-of-stream marker
            continue
        if packet.pts is not None:
            packet.pts += shift
        if packet.dts is not None:
            packet.dts += shift
        packet.stream = out_stream
        out.mux(packet)


def new_video_file(dst: str | os.PathLike, src: str | os.PathLike) -> float:
    """Move episode video `src` to `dst` as the first episode of a new camera file; returns 0.0
    (its from_timestamp). Creates dst's parent; refuses to overwrite an existing dst (DatasetFormatError)."""
    dst, src = Path(dst), Path(src)
    if not src.is_file():
        raise VideoDecodeError(f"{src}: video file not found")
    if dst.exists():
        raise DatasetFormatError(f"{dst}: camera video file already exists; append_video() to it instead")
    dst.parent.mkdir(parents=True, exist_ok=True)
    fsync_file(src)
    shutil.move(src, dst)  # os.rename when on the same filesystem
    fsync_dir(dst.parent)
    return 0.0
