"""Moving episodes between camera MP4s packet for packet (no re-encode, frames bit-exact).

An episode of camera k occupies file times [from_timestamp, to_timestamp) of its MP4 (FORMAT.md
§9.1) and starts on a key frame (every episode is encoded on its own and appended by remuxing), so
its packets can be cut out and appended to another file with shifted timestamps: the decoder sees
the very same compressed bytes, hence the very same frames. `RemuxWriter` builds one output file
from such slices; `episode_packets` reads one slice and checks it (count, key frame, codec).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av

from robotlearn.datasets.errors import DatasetError, VideoDecodeError
from robotlearn.datasets.video_encode import MP4_OPTIONS, VideoIncompatibleError, _open_input, _stream_props


def _units(seconds: float, time_base: Fraction) -> int:
    return round(Fraction(seconds).limit_denominator(10**9) / time_base)


class _Source:
    """An open input MP4, reused while consecutive slices come from the same file."""

    def __init__(self, path: Path):
        self.path = path
        self.container = _open_input(path)
        self.stream = self.container.streams.video[0]
        self.props = _stream_props(self.stream)
        self.time_base = self.stream.time_base

    def slice(self, from_ts: float, to_ts: float) -> list:
        tb = self.time_base
        lo, hi = _units(from_ts, tb), _units(to_ts, tb)
        try:
            self.container.seek(max(lo, 0), stream=self.stream, backward=True, any_frame=False)
            out = []
            for packet in self.container.demux(self.stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                if packet.pts >= hi:
                    break
                if packet.pts >= lo:
                    out.append(packet)
        except av.FFmpegError as exc:
            raise VideoDecodeError(
                f"{self.path}: cannot read packets between t={from_ts}s and {to_ts}s: {exc}"
            ) from exc
        return out

    def close(self) -> None:
        self.container.close()


class RemuxWriter:
    """One camera's output MP4 made of episode slices of other MP4s.

    `add(src, from_ts, to_ts, n_frames, where)` appends the slice and returns its (from, to) times in
    the output. Every slice must start on a key frame and hold exactly n_frames packets, and all
    sources must share codec, size, pixel format and fps (else DatasetError / VideoIncompatibleError,
    naming the file and episode). `size` is the bytes of packets written so far.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.container = None
        self.stream = None
        self.time_base: Fraction | None = None
        self.props = None
        self.offset = 0  # output time-base units
        self.size = 0
        self._src: _Source | None = None

    def _source(self, path: Path) -> _Source:
        if self._src is None or self._src.path != path:
            if self._src is not None:
                self._src.close()
            self._src = _Source(path)
        return self._src

    def add(self, src_path: Path, from_ts: float, to_ts: float, n_frames: int, where: str = "") -> tuple[float, float]:
        src = self._source(Path(src_path))
        packets = src.slice(from_ts, to_ts)
        label = f"{src_path}" + (f" ({where})" if where else "")
        if len(packets) != n_frames:
            raise DatasetError(
                f"{label}: {len(packets)} video packets between t={from_ts:.6f}s and {to_ts:.6f}s "
                f"but the episode has {n_frames} frames; run `robotlearn dataset validate` on the input"
            )
        if not packets[0].is_keyframe:
            raise DatasetError(
                f"{label}: the episode does not start on a key frame, so it cannot be copied "
                "without re-encoding; use `robotlearn dataset reencode` (or --compact)"
            )
        if self.container is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.container = av.open(str(self.path), mode="w", format="mp4", options=MP4_OPTIONS)
            self.stream = self.container.add_stream_from_template(src.stream, opaque=True)
            self.stream.time_base = src.time_base
            self.time_base = src.time_base
            self.props = src.props
        else:
            try:
                from robotlearn.datasets.video_encode import _check_compatible

                _check_compatible(self.path, self.props, Path(src_path), src.props)
            except VideoIncompatibleError as e:
                raise VideoIncompatibleError(f"{label}: {e}") from None
        lo = _units(from_ts, src.time_base)
        span = Fraction(_units(to_ts, src.time_base) - lo) * src.time_base  # seconds
        scale = src.time_base / self.time_base
        start = self.offset
        for packet in packets:
            pts = (packet.pts - lo) * scale
            dts = None if packet.dts is None else (packet.dts - lo) * scale
            dur = packet.duration * scale if packet.duration else None
            if any(v is not None and Fraction(v).denominator != 1 for v in (pts, dts, dur)):
                raise VideoIncompatibleError(
                    f"{label}: time base {src.time_base} cannot be expressed exactly in "
                    f"{self.time_base}; re-encode one of the inputs"
                )
            packet.pts = start + int(pts)
            packet.dts = None if dts is None else start + int(dts)
            if dur is not None:
                packet.duration = int(dur)
            packet.time_base = self.time_base
            packet.stream = self.stream
            self.size += packet.size
            self.container.mux(packet)
        span_units = span / self.time_base
        if span_units.denominator != 1:
            raise VideoIncompatibleError(f"{label}: episode duration {float(span)}s is not whole in {self.time_base}")
        self.offset = start + int(span_units)
        return float(start * self.time_base), float(self.offset * self.time_base)

    def close(self) -> None:
        if self._src is not None:
            self._src.close()
            self._src = None
        if self.container is not None:
            self.container.close()
            self.container = None


def file_packets(path: str | os.PathLike) -> tuple[dict, list[tuple[float, bool]]]:
    """(stream properties, [(pts seconds, is_keyframe)] of every packet) of an MP4, without decoding."""
    path = Path(path)
    with _open_input(path) as container:
        stream = container.streams.video[0]
        props = _stream_props(stream)
        tb = stream.time_base
        props["duration"] = float(stream.duration * tb) if stream.duration is not None else None
        try:
            packets = [
                (float(p.pts * tb), bool(p.is_keyframe))
                for p in container.demux(stream)
                if p.size and p.pts is not None
            ]
        except av.FFmpegError as exc:
            raise VideoDecodeError(f"{path}: cannot read packets ({exc}); the file is truncated or corrupt") from exc
    return props, packets


def decode_all(path: str | os.PathLike, rgb: bool = True) -> list[tuple[float, object]]:
    """Decode every frame of an MP4: [(time s, (H, W, 3) uint8)] in presentation order, or with rgb=False
    [(time s, (H, W))] (decoded but not converted: what the doctor needs). Raises VideoDecodeError."""
    path = Path(path)
    out = []
    with _open_input(path) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        try:
            for frame in container.decode(stream):
                value = frame.to_ndarray(format="rgb24") if rgb else (frame.height, frame.width)
                out.append((float(frame.pts * tb), value))
        except av.FFmpegError as exc:
            raise VideoDecodeError(
                f"{path}: decoding failed after {len(out)} frames ({exc}); the file is corrupt"
            ) from exc
    return out
