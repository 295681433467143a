"""Reading frames from camera MP4s at given times, with a per-process cache of open files.

A frame of episode e at episode time t lives at file time from_timestamp(e) + t (FORMAT.md §9.1).
`decode_frames(path, times)` seeks to the keyframe at/before the earliest time, decodes forward past the
latest (one seek per window, not per frame), and returns the decoded frame nearest each time, refusing any
further than `tolerance_s` away.

Speed (benchmarks/bench_video.py, bench_dataset.py): files stay open in a bounded LRU (`DecoderCache`), so a
call costs a seek and a few frame decodes, not a file open; in-order reads continue decoding forward instead
of seeking; only frames that were asked for are converted to RGB, by one single-threaded swscale context per
file (FFmpeg's automatic slice threads cost 4x the CPU for 480x640 frames and fight DataLoader workers for
cores). `channels_first=True` writes (T, 3, H, W) straight into the caller's array (`out=`), swscale writing
into it itself where that is exact (frame_rgb.py). Either way the frames equal the (T, H, W, 3) ones
transposed, and no strided (T, H, W, C) -> (T, C, H, W) copy is left for later (torch copies such a permuted
uint8 view ~15x slower than numpy deinterleaves it).
"""

from __future__ import annotations

import bisect
import collections
import math
import os
import threading
import time
from collections.abc import Sequence
from stat import S_ISREG

import av
import numpy as np

from robotlearn.datasets.errors import FrameTimestampError, VideoDecodeError
from robotlearn.datasets.frame_rgb import RGBConverter
from robotlearn.datasets.video_packets import IndexedPackets

DEFAULT_CACHE_SIZE = 16
CACHE_SIZE_ENV = "ROBOTLEARN_VIDEO_DECODER_CACHE_SIZE"
THREADS_ENV = "ROBOTLEARN_VIDEO_DECODER_THREADS"
# A cached file is checked on disk (os.stat: a replaced file is reopened) at most this often, and whenever a
# request fails on it: a path lookup per call costs ~5% of a 96x96 sample. Files are only ever replaced by
# ones that hold the same frames at the same times plus more (append_video), so a file replaced since the last
# check can only fail a request for new frames, and that retries after checking.
STAT_INTERVAL_S = 1.0
RECENT_FRAMES = 4  # decoded frames kept per open file so overlapping windows of in-order reads reuse them

# Containers inherited through fork() belong to the parent. Deallocating them in the child would run
# FFmpeg's close (and the decoder's thread-pool teardown for threads that do not exist in the child), so
# the child keeps them referenced here and never touches them.
_FORK_ORPHANS: list = []


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} must be a non-negative integer") from None
    if value < 0:
        raise ValueError(f"environment variable {name}={raw!r} must be a non-negative integer")
    return value


class _OpenVideo:
    """One open MP4: its container, decoder state and the last few decoded frames. Not thread-safe on its
    own: callers hold `lock` while using it."""

    def __init__(self, path: str, stat: os.stat_result | None, threads: int, opener=None):
        self.path = path
        self.key = _file_key(stat)
        self.checked_at = time.monotonic()  # when the file on disk was last seen to be this one
        self.lock = threading.Lock()
        self.closed = False
        # With an opener, FFmpeg reads through a Python file object (e.g. a remote file read by byte ranges).
        self._file = opener() if opener is not None else None
        try:
            self.container = av.open(str(path) if self._file is None else self._file)
        except (av.FFmpegError, UnicodeDecodeError) as exc:  # a corrupt header can hold undecodable metadata
            raise VideoDecodeError(
                f"{path}: cannot open video ({exc}); the file is truncated or not an MP4. Re-download or re-record it."
            ) from exc
        if not self.container.streams.video:
            self.container.close()
            raise VideoDecodeError(f"{path}: the file has no video stream")
        self.stream = self.container.streams.video[0]
        # One thread is fastest for small frames and for several DataLoader workers sharing few cores.
        self.stream.codec_context.thread_count = threads
        tb = self.stream.time_base
        self.tb_num, self.tb_den = tb.numerator, tb.denominator
        rate = self.stream.average_rate or self.stream.base_rate or self.stream.guessed_rate
        if not rate:
            self.container.close()
            raise VideoDecodeError(f"{path}: the video stream declares no frame rate; re-encode it as constant fps")
        self.fps = float(rate)
        if self.stream.duration is not None:
            self.duration = float(self.stream.duration * tb)
        elif self.container.duration is not None:
            self.duration = self.container.duration / av.time_base
        else:
            self.duration = None
        self.rgb = RGBConverter()
        # Local AV1/H.264 files: packets straight from the MP4 index, skipping the demuxer (video_packets.py).
        self.packets = IndexedPackets.open(path, self.container, self.stream) if self._file is None else None
        self.recent: collections.deque = collections.deque(maxlen=RECENT_FRAMES)  # (time_s, VideoFrame)
        self.gop = 2  # keyframe distance in frames, learned while decoding
        self._last_key_index = None
        self._packets = None
        self._pending: collections.deque = collections.deque()
        self.eof = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.recent.clear()
        self._pending.clear()
        self._packets = None
        self.container.close()
        if self.packets is not None:
            self.packets.close()
        if self._file is not None:
            self._file.close()

    def _where(self, episode_index) -> str:
        """The file (and episode) an error message names; formatted only when one is raised."""
        return self.path + (f" (episode {episode_index})" if episode_index is not None else "")

    # ---- decoding primitives ----
    def _seek(self, t: float) -> None:
        # +1e-3 of a unit: a time a float rounding error below a frame's pts still lands on that frame.
        target = math.floor(t * self.tb_den / self.tb_num + 1e-3)
        self.container.seek(max(target, 0), stream=self.stream, backward=True, any_frame=False)
        self._packets = None
        self._pending.clear()
        self.recent.clear()
        self.eof = False
        self._last_key_index = None  # keyframe distance is measured only along one uninterrupted decode

    def _next_frame(self):
        """Next decoded frame as (time_s, VideoFrame), or None at end of stream."""
        while not self._pending:
            if self.eof:
                return None
            if self._packets is None:
                self._packets = self.container.demux(self.stream)
            packet = next(self._packets, None)
            if packet is None:
                self.eof = True
                return None
            self._pending.extend(packet.decode())  # the final empty packet flushes the decoder
        frame = self._pending.popleft()
        if frame.pts is None:
            raise VideoDecodeError(f"{self.path}: decoded a frame without a timestamp; re-encode the file")
        t = frame.pts * self.tb_num / self.tb_den
        if frame.key_frame:
            index = round(t * self.fps)
            if self._last_key_index is not None and index > self._last_key_index:
                self.gop = index - self._last_key_index
            self._last_key_index = index
        self.recent.append((t, frame))
        return t, frame

    # ---- the one public operation ----
    def frames_at(
        self,
        times: Sequence[float],
        tolerance_s: float,
        episode_index,
        channels_first: bool = False,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        if not math.isfinite(math.fsum(times)):  # any NaN or infinity makes the sum non-finite
            raise FrameTimestampError(
                f"{self._where(episode_index)}: requested frame times {list(times)} are not finite; the episode's "
                "from_timestamp or the rows' timestamp holds NaN (run robotlearn dataset validate)"
            )
        t_lo, t_hi = min(times), max(times)
        frame_s = 1.0 / self.fps
        last_t = self.duration - frame_s if self.duration is not None else None
        if t_lo < -tolerance_s or (last_t is not None and t_hi > last_t + tolerance_s):
            bad, nearest = (t_lo, 0.0) if t_lo < -tolerance_s else (t_hi, last_t)
            end = "?" if last_t is None else f"{last_t:.6f}"
            raise FrameTimestampError(
                f"{self._where(episode_index)}: requested frame at t={bad:.6f}s is outside the video (frames from 0 to {end}s; "
                f"nearest t={nearest:.6f}s). Check the episode's from_timestamp and the dataset fps "
                f"({self.fps:g} in the video), or raise tolerance_s (now {tolerance_s})."
            )
        if self.packets is not None:
            return self._frames_indexed(times, tolerance_s, episode_index, channels_first, out)
        # Stop once a frame within eps of t_hi is decoded: no later frame can be nearer (eps < half a frame).
        eps = min(tolerance_s, 0.25 * frame_s)

        # Continue from what is already decoded when the request starts within or shortly after the recent
        # frames (in-order reads); otherwise seek to the keyframe at/before t_lo.
        cands = [(t, f) for t, f in self.recent if t >= t_lo - frame_s]
        if not (
            self.recent and self.recent[0][0] <= t_lo + eps and t_lo - self.recent[-1][0] <= self.gop * frame_s + eps
        ):
            self._seek(t_lo)
            cands = []
        try:
            while not cands or cands[-1][0] < t_hi - eps:
                got = self._next_frame()
                if got is None:
                    break
                if got[0] < t_lo - frame_s:  # lead-in from the keyframe: keep only the frame just before t_lo
                    continue
                cands.append(got)
        except av.FFmpegError as exc:
            raise VideoDecodeError(
                f"{self._where(episode_index)}: decoding failed near t={t_lo:.6f}s ({exc}); the file is corrupt or "
                "truncated. Re-download or re-record it."
            ) from exc
        if not cands or cands[-1][0] < t_hi - tolerance_s:
            end = f"at t={cands[-1][0]:.6f}s" if cands else "before the requested frames"
            raise VideoDecodeError(
                f"{self._where(episode_index)}: the stream ends {end} although its header declares a duration of {self.duration}s "
                f"and t={t_hi:.6f}s was requested; the file is truncated. Re-download or re-record it."
            )

        # Nearest decoded frame for each requested time (plain Python: T and the candidates are a handful).
        cand_times = [t for t, _ in cands]
        nearest = []
        for q in times:
            j = bisect.bisect_left(cand_times, q)
            if j == len(cand_times) or (j > 0 and q - cand_times[j - 1] <= cand_times[j] - q):
                j -= 1
            if abs(q - cand_times[j]) > tolerance_s:
                raise FrameTimestampError(
                    f"{self._where(episode_index)}: requested frame at t={q:.6f}s but the nearest frame in the video is at "
                    f"t={cand_times[j]:.6f}s (off by {abs(q - cand_times[j]):.6f}s > tolerance_s={tolerance_s}). "
                    f"Check that the dataset fps matches the video's ({self.fps:g}) and the episode's "
                    "from_timestamp, or raise tolerance_s."
                )
            nearest.append(j)

        return self._write([cands[c][1] for c in nearest], nearest, channels_first, out, episode_index)

    def _frames_indexed(self, times, tolerance_s: float, episode_index, channels_first: bool, out) -> np.ndarray:
        """frames_at for a file read through its index: the asked frames are found in the index, not by
        decoding, and exactly the packets from the keyframe before the first to the last are decoded."""
        packets = self.packets
        to_pts, tb = self.tb_den / self.tb_num, self.tb_num / self.tb_den
        pts = packets.pts
        last = len(pts) - 1
        numbers = []
        for q in times:  # packets.nearest, inlined: a call per frame shows at 96x96
            target = q * to_pts
            j = bisect.bisect_left(pts, target)
            if j > last or (j > 0 and target - pts[j - 1] <= pts[j] - target):
                j -= 1
            t = pts[j] * tb
            if abs(q - t) > tolerance_s:
                raise FrameTimestampError(
                    f"{self._where(episode_index)}: requested frame at t={q:.6f}s but the nearest frame in the "
                    f"video is at t={t:.6f}s (off by {abs(q - t):.6f}s > tolerance_s={tolerance_s}). "
                    f"Check that the dataset fps matches the video's ({self.fps:g}) and the episode's "
                    "from_timestamp, or raise tolerance_s."
                )
            numbers.append(j)
        wanted = set(numbers)
        try:
            frames = packets.frames(wanted, self.stream.codec_context)
        except av.FFmpegError as exc:
            raise VideoDecodeError(
                f"{self._where(episode_index)}: decoding failed near t={min(times):.6f}s ({exc}); the file is "
                "corrupt or truncated. Re-download or re-record it."
            ) from exc
        if len(frames) != len(wanted):
            missing = sorted(pts[n] * tb for n in wanted if n not in frames)
            raise VideoDecodeError(
                f"{self._where(episode_index)}: the decoder gave no frame for t={missing[0]:.6f}s although the "
                "file's index lists one; the file is corrupt. Re-download or re-record it."
            )
        return self._write([frames[n] for n in numbers], numbers, channels_first, out, episode_index)

    def _write(self, frames: list, ids: list, channels_first: bool, out, episode_index) -> np.ndarray:
        """Convert `frames` (the same id = the same frame) into `out`, allocated when None."""
        h, w = frames[0].height, frames[0].width
        shape = (len(frames), 3, h, w) if channels_first else (len(frames), h, w, 3)
        if out is None:
            out = np.empty(shape, dtype=np.uint8)
        elif out.shape != shape:
            raise VideoDecodeError(
                f"{self._where(episode_index)}: frames are {w}x{h} but the output array has shape {out.shape} "
                f"(expected {shape}); the dataset's meta/info.json and the video disagree "
                "(run robotlearn dataset validate)"
            )
        self.rgb.write(frames, ids, out, channels_first)
        return out


def _file_key(stat: os.stat_result | None) -> tuple | None:
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size) if stat is not None else None


def _stat_video(path: str, episode_index: int | None) -> os.stat_result:
    """os.stat of a video file, with the errors a missing or non-regular file gets."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise VideoDecodeError(
            f"{path}: video file not found"
            + (f" (episode {episode_index})" if episode_index is not None else "")
            + ". Check the dataset root and the episode's videos/<key>/chunk_index and "
            "file_index, or re-download the dataset."
        ) from None
    if not S_ISREG(stat.st_mode):  # a FIFO or device would block FFmpeg's open() forever
        raise VideoDecodeError(f"{path}: not a regular file; expected an MP4")
    return stat


class DecoderCache:
    """A bounded LRU of open video files for this process (default 16; env ROBOTLEARN_VIDEO_DECODER_CACHE_SIZE).

    Fork-aware: a child process (e.g. a DataLoader worker forked after the parent read samples) drops the
    inherited entries without closing them, and opens its own. A file replaced on disk (new inode, size or
    mtime, e.g. after `append_video`) is reopened: it is checked at most every STAT_INTERVAL_S and whenever
    a request fails on the cached one. Safe to share between threads: each open file is used by one thread
    at a time.

    Args:
        max_open: open files kept; 0 closes each file after use. None = env var or 16.
        decoder_threads: FFmpeg decoder threads per file; None = env ROBOTLEARN_VIDEO_DECODER_THREADS or 1
            (fastest for random access to small frames and for multi-worker loading; 0 = FFmpeg's auto).
    """

    def __init__(self, max_open: int | None = None, decoder_threads: int | None = None):
        self.max_open = _env_int(CACHE_SIZE_ENV, DEFAULT_CACHE_SIZE) if max_open is None else int(max_open)
        self.decoder_threads = _env_int(THREADS_ENV, 1) if decoder_threads is None else int(decoder_threads)
        if self.max_open < 0 or self.decoder_threads < 0:
            raise ValueError(f"max_open and decoder_threads must be >= 0, got {max_open}, {decoder_threads}")
        self._entries: collections.OrderedDict[str, _OpenVideo] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def __len__(self) -> int:
        self._check_fork()
        return len(self._entries)

    def _check_fork(self) -> None:
        if os.getpid() != self._pid:
            _FORK_ORPHANS.extend(self._entries.values())
            self._entries = collections.OrderedDict()
            self._lock = threading.Lock()  # the parent's may have been held by a thread that no longer exists
            self._pid = os.getpid()

    def decode(
        self,
        path: str | os.PathLike,
        timestamps: Sequence[float],
        tolerance_s: float = 1e-4,
        episode_index: int | None = None,
        opener=None,
        channels_first: bool = False,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Frames of `path` nearest `timestamps` (seconds, file time) as a (T, H, W, 3) uint8 RGB array,
        or (T, 3, H, W) with `channels_first`.

        `opener`: a no-argument callable returning a readable, seekable binary file object for `path`
        (e.g. a remote file); then `path` is only the cache key and the name in errors, and the file
        is never checked for changes. `out`: a C-contiguous uint8 array of that shape to write into
        (returned); VideoDecodeError if the video's frame size does not fit it.
        """
        if len(timestamps) == 0:
            raise ValueError(f"{path}: decode_frames needs at least one timestamp")
        self._check_fork()
        stat = None
        checked = opener is not None  # a file object is never checked for changes
        if opener is None:
            path = os.fspath(path)  # the cache key: a str, whether given a str or a Path
            entry = self._entries.get(path)
            if entry is None or time.monotonic() - entry.checked_at > STAT_INTERVAL_S:
                stat, checked = _stat_video(path, episode_index), True
        while True:
            entry = self._checkout(path, stat, opener, checked)
            try:
                with entry.lock:
                    if entry.closed:  # evicted by another thread between checkout and lock: take a fresh one
                        continue
                    return entry.frames_at(timestamps, tolerance_s, episode_index, channels_first, out)
            except (VideoDecodeError, FrameTimestampError) as error:
                if not checked:  # the file may have been replaced (appended to) since it was last checked
                    stat, checked = _stat_video(path, episode_index), True
                    if _file_key(stat) != entry.key:
                        self._discard(path, entry)
                        continue
                if isinstance(error, VideoDecodeError):
                    self._discard(path, entry)  # the decoder state is unknown after an error
                raise
            finally:
                if self.max_open == 0:
                    self._discard(path, entry)

    def _checkout(self, path: str, stat: os.stat_result | None, opener, checked: bool) -> _OpenVideo:
        """The open file for `path`: the cached one if it is still the file `stat` describes (or, when the
        file was not checked this call, if there is one), else a newly opened one."""
        with self._lock:
            entry = self._entries.get(path)
            if entry is not None and (not checked or entry.key == _file_key(stat)):
                self._entries.move_to_end(path)
                if checked:
                    entry.checked_at = time.monotonic()
                return entry
        if not checked:  # evicted since decode() looked: open it afresh, checked
            stat = _stat_video(path, None)
        new = _OpenVideo(path, stat, self.decoder_threads, opener)  # opened outside the lock: it reads the file
        evicted = []
        with self._lock:
            old = self._entries.pop(path, None)
            if old is not None:
                evicted.append(old)
            self._entries[path] = new
            while len(self._entries) > max(self.max_open, 1):
                evicted.append(self._entries.popitem(last=False)[1])
        for e in evicted:
            with e.lock:
                e.close()
        return new

    def _discard(self, path: str, entry: _OpenVideo) -> None:
        with self._lock:
            if self._entries.get(path) is entry:
                del self._entries[path]
        with entry.lock:
            if not entry.closed:
                entry.close()

    def clear(self) -> None:
        """Close every open file owned by this process."""
        self._check_fork()
        with self._lock:
            entries, self._entries = list(self._entries.values()), collections.OrderedDict()
        for e in entries:
            with e.lock:
                e.close()


_DEFAULT_CACHE: DecoderCache | None = None
_DEFAULT_CACHE_LOCK = threading.Lock()


def default_decoder_cache() -> DecoderCache:
    """The process-wide cache `decode_frames` uses when none is given (created on first use)."""
    global _DEFAULT_CACHE
    if _DEFAULT_CACHE is None:
        with _DEFAULT_CACHE_LOCK:
            if _DEFAULT_CACHE is None:
                _DEFAULT_CACHE = DecoderCache()
    return _DEFAULT_CACHE


def decode_frames(
    path: str | os.PathLike,
    timestamps: Sequence[float],
    tolerance_s: float = 1e-4,
    episode_index: int | None = None,
    cache: DecoderCache | None = None,
    opener=None,
    channels_first: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Decode the frames of video `path` at `timestamps` (seconds in file time = from_timestamp + episode time).

    Returns a (T, H, W, 3) uint8 RGB array, T = len(timestamps), in the order asked; (T, 3, H, W) with
    `channels_first` (the same values, laid out as the dataset returns them). `out`: an array of that
    shape to decode into, e.g. a view of a preallocated tensor (`tensor.numpy()`).
    Raises FrameTimestampError if a decoded frame is further than `tolerance_s` from its requested time
    or a time lies outside the video; VideoDecodeError if the file is missing, truncated or corrupt.
    `episode_index` only enriches error messages. Uses the process-wide `default_decoder_cache()` unless
    `cache` is given. `opener` (optional): a callable returning a binary file object to read `path` from
    (see `DecoderCache.decode`).
    """
    return (cache if cache is not None else default_decoder_cache()).decode(
        path, timestamps, tolerance_s, episode_index, opener, channels_first, out
    )
