"""Decoded video frames to uint8 RGB, written straight into the caller's array.

    converter = RGBConverter()                       # one per open video (not thread-safe)
    converter.into(frame, out, channels_first=True)  # out: (3, H, W) or (H, W, 3) uint8

The values are always those of swscale's packed rgb24 conversion as PyAV does it (one thread, bilinear),
in either layout. Three ways to get there, the fastest that is exact for frames like this one:

1. direct: swscale called through ctypes with the caller's array as its destination (planar RGB for
   (3, H, W), packed for (H, W, 3)). PyAV's reformat always converts into a frame of its own, which then
   has to be copied out: at 480x640 that copy, into memory the conversion has not warmed, is a third of the
   conversion's time (measured here: 112 -> 70 us per frame). It is used only where a probe
   showed it gives PyAV's rgb24 pixels bit for bit and writes nothing outside the array.
2. planar: PyAV's planar RGB ("gbrp") output copied plane by plane, where it equals the packed output.
3. packed: PyAV's rgb24 output, deinterleaved by numpy for (3, H, W).

Each probe runs once per (format, size, colour space, range, layout) in a process, on a random frame,
which any difference in chroma handling or edge columns shows.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os

import av
import numpy as np
from av.video.reformatter import VideoReformatter

# swscale's planar RGB output equals its packed output only for some source formats and widths (FFmpeg 8 on
# x86: 8-bit planar YUV/gray, width a multiple of 16; other widths get a wrong tail).
_PLANAR_CANDIDATES = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "gray"})
_GBRP_TO_RGB = (1, 2, 0)  # gbrp plane k (G, B, R) holds RGB channel _GBRP_TO_RGB[k]
_SWS_BILINEAR = 2  # PyAV's default interpolation; the colour conversion itself does not scale
_GUARD = 256  # bytes after the probe's destination that must stay untouched
_ALIGN = 16  # destination address and row stride the direct path needs (SIMD stores; else swscale warns)

_PLANAR_EXACT: dict[tuple, bool] = {}
_DIRECT_EXACT: dict[tuple, bool] = {}


def _frame_key(frame) -> tuple:
    return (frame.format.name, frame.width, frame.height, frame.colorspace, frame.color_range)


def _rgb24(reformatter: VideoReformatter, frame) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a decoded frame (one swscale thread)."""
    return reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()


def _gbrp_into(reformatter: VideoReformatter, frame, out: np.ndarray) -> None:
    """Convert `frame` to planar RGB and copy each plane into out (3, H, W), in RGB order."""
    planar = reformatter.reformat(frame, format="gbrp", threads=1)
    h, w = planar.height, planar.width
    for plane, channel in zip(planar.planes, _GBRP_TO_RGB):
        out[channel] = np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)[:, :w]


def _probe_frame(key: tuple):
    """A random-noise frame of `key`'s format, size, colour space and range."""
    fmt, w, h, colorspace, color_range = key
    noise = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    probe = VideoReformatter().reformat(av.VideoFrame.from_ndarray(noise, format="rgb24"), format=fmt)
    probe.colorspace, probe.color_range = colorspace, color_range
    return probe


def _planar_is_exact(frame) -> bool:
    """Whether PyAV's planar output gives exactly the packed output's pixels for frames like `frame`."""
    key = _frame_key(frame)
    exact = _PLANAR_EXACT.get(key)
    if exact is None:
        exact = False
        if frame.format.name in _PLANAR_CANDIDATES and frame.width % 16 == 0:
            reformatter = VideoReformatter()
            probe = _probe_frame(key)
            planar = np.empty((3, frame.height, frame.width), np.uint8)
            _gbrp_into(reformatter, probe, planar)
            exact = bool(np.array_equal(planar.transpose(1, 2, 0), _rgb24(reformatter, probe)))
        _PLANAR_EXACT[key] = exact
    return exact


class _Swscale:
    """libswscale and libavutil through ctypes: PyAV's own copies where its wheel bundles them."""

    def __init__(self):
        bundled = os.path.join(os.path.dirname(os.path.dirname(av.__file__)), "av.libs")

        def load(name: str) -> ctypes.CDLL:
            found = sorted(glob.glob(os.path.join(bundled, f"lib{name}-*.so*"))) or [ctypes.util.find_library(name)]
            if found[0] is None:
                raise OSError(f"lib{name} not found")
            return ctypes.CDLL(found[0])

        avutil, sws = load("avutil"), load("swscale")
        self.pix_fmt = avutil.av_get_pix_fmt
        self.pix_fmt.restype, self.pix_fmt.argtypes = ctypes.c_int, [ctypes.c_char_p]
        self.get_context = sws.sws_getContext
        self.get_context.restype = ctypes.c_void_p
        self.get_context.argtypes = [ctypes.c_int] * 7 + [ctypes.c_void_p] * 3
        self.coefficients = sws.sws_getCoefficients
        self.coefficients.restype, self.coefficients.argtypes = ctypes.c_void_p, [ctypes.c_int]
        self.set_colorspace = sws.sws_setColorspaceDetails
        self.set_colorspace.restype = ctypes.c_int
        self.set_colorspace.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p] + [
            ctypes.c_int
        ] * 4
        self.pointers, self.strides = ctypes.c_void_p * 4, ctypes.c_int * 4
        self.scale = sws.sws_scale
        self.scale.restype = ctypes.c_int
        self.scale.argtypes = [ctypes.c_void_p, self.pointers, self.strides, ctypes.c_int, ctypes.c_int] + [
            self.pointers,
            self.strides,
        ]
        self.free_context = sws.sws_freeContext
        self.free_context.restype, self.free_context.argtypes = None, [ctypes.c_void_p]


_SWS: _Swscale | None | bool = False  # False: not loaded yet; None: not loadable here


def _swscale() -> _Swscale | None:
    global _SWS
    if _SWS is False:
        try:
            _SWS = _Swscale()
        except (OSError, AttributeError):  # no shared library, or one without these symbols
            _SWS = None
    return _SWS


class _DirectScaler:
    """One swscale context converting frames of one key into caller arrays of one layout."""

    def __init__(self, sws: _Swscale, key: tuple, channels_first: bool):
        fmt, w, h, colorspace, color_range = key
        self.sws, self.w, self.h, self.channels_first = sws, w, h, channels_first
        src, dst = sws.pix_fmt(fmt.encode()), sws.pix_fmt(b"gbrp" if channels_first else b"rgb24")
        self.ctx = None
        if src < 0 or dst < 0:
            raise ValueError(f"pixel format {fmt} unknown to libavutil")
        self.ctx = sws.get_context(w, h, src, w, h, dst, _SWS_BILINEAR, None, None, None)
        if not self.ctx:
            raise ValueError(f"swscale cannot convert {fmt} {w}x{h}")
        # The colour matrix of the frame's colour space (AVColorSpace numbers index swscale's table) and its
        # range, as PyAV's reformat takes them from the frame; RGB out is full range.
        coefficients = sws.coefficients(int(colorspace))
        full = int(int(color_range) == 2 or fmt.startswith("yuvj"))
        sws.set_colorspace(self.ctx, coefficients, full, coefficients, 1, 0, 1 << 16, 1 << 16)
        self.src, self.src_strides = sws.pointers(), sws.strides()
        self.dst, self.dst_strides = sws.pointers(), sws.strides()

    def __del__(self):
        if getattr(self, "ctx", None):
            self.sws.free_context(self.ctx)

    def __call__(self, frame, address: int) -> None:
        """Convert `frame` into the (3, H, W) or (H, W, 3) uint8 array at `address` (see `_direct_target`)."""
        for i, plane in enumerate(frame.planes):
            self.src[i], self.src_strides[i] = plane.buffer_ptr, plane.line_size
        if self.channels_first:
            size = self.h * self.w
            self.dst[0], self.dst[1], self.dst[2] = address + size, address + 2 * size, address  # G, B, R planes
            self.dst_strides[0] = self.dst_strides[1] = self.dst_strides[2] = self.w
        else:
            self.dst[0], self.dst_strides[0] = address, 3 * self.w
        if self.sws.scale(self.ctx, self.src, self.src_strides, 0, self.h, self.dst, self.dst_strides) != self.h:
            raise RuntimeError("swscale converted fewer rows than the frame has")


def _direct_target(out: np.ndarray, frame_bytes: int) -> int | None:
    """The address of `out` (T, ...) uint8, frames `frame_bytes` apart, if swscale may write each out[i] in
    place, else None."""
    if not (out.dtype == np.uint8 and out.flags.c_contiguous and out.flags.writeable):
        return None
    address = out.ctypes.data
    return address if address % _ALIGN == 0 and frame_bytes % _ALIGN == 0 else None


def _direct_is_exact(key: tuple, channels_first: bool) -> bool:
    """Whether the direct path gives PyAV's rgb24 pixels for `key`'s frames and writes only inside its array."""
    exact = _DIRECT_EXACT.get((key, channels_first))
    if exact is None:
        exact = False
        sws = _swscale()
        fmt, w, h = key[:3]
        if sws is not None and (3 * w if not channels_first else w) % _ALIGN == 0:
            try:
                probe = _probe_frame(key)
                scaler = _DirectScaler(sws, key, channels_first)
            except (ValueError, av.FFmpegError):
                probe = None
            if probe is not None:
                n = 3 * h * w
                buffer = np.full(n + _GUARD + 64, 0xA5, np.uint8)
                start = -buffer.ctypes.data % 64
                out = buffer[start : start + n].reshape((3, h, w) if channels_first else (h, w, 3))
                scaler(probe, out.ctypes.data)
                want = _rgb24(VideoReformatter(), probe)
                got = out.transpose(1, 2, 0) if channels_first else out
                untouched = bool((buffer[:start] == 0xA5).all() and (buffer[start + n :] == 0xA5).all())
                exact = untouched and bool(np.array_equal(got, want))
        _DIRECT_EXACT[(key, channels_first)] = exact
    return exact


class RGBConverter:
    """Converts one video's decoded frames into caller arrays (see the module docstring). Keeps a swscale
    context per frame kind; not thread-safe: one per open file, used under its lock."""

    def __init__(self):
        self.reformatter = VideoReformatter()
        self._direct: dict[tuple, _DirectScaler | None] = {}

    def write(self, frames: list, ids: list, out: np.ndarray, channels_first: bool) -> None:
        """Write frames[i] as uint8 RGB into out[i]: out is (T, 3, H, W) if channels_first else (T, H, W, 3),
        of the frames' size. Frames with the same id are the same frame: converted once, then copied."""
        step = out.nbytes // len(out) if len(out) else 0
        address = _direct_target(out, step)
        converted: dict = {}
        for i, (frame, c) in enumerate(zip(frames, ids)):
            if c in converted:  # the same frame asked twice (e.g. padded windows): copy, don't convert again
                out[i] = out[converted[c]]
                continue
            converted[c] = i
            scaler = self._scaler(frame, channels_first) if address is not None else None
            if scaler is not None:
                scaler(frame, address + i * step)
            else:
                self.into(frame, out[i], channels_first)

    def into(self, frame, out: np.ndarray, channels_first: bool) -> None:
        """Write decoded `frame` as uint8 RGB into out: (3, H, W) if channels_first else (H, W, 3)."""
        address = _direct_target(out, out.nbytes)
        scaler = self._scaler(frame, channels_first) if address is not None else None
        if scaler is not None:
            scaler(frame, address)
        elif not channels_first:
            out[...] = _rgb24(self.reformatter, frame)
        elif _planar_is_exact(frame):
            _gbrp_into(self.reformatter, frame, out)
        else:
            np.copyto(out, _rgb24(self.reformatter, frame).transpose(2, 0, 1))

    def _scaler(self, frame, channels_first: bool) -> _DirectScaler | None:
        """The direct scaler for frames like `frame`, None where the direct path is not exact."""
        key = (_frame_key(frame), channels_first)
        scaler = self._direct.get(key, False)
        if scaler is False:
            scaler = _DirectScaler(_swscale(), key[0], channels_first) if _direct_is_exact(*key) else None
            self._direct[key] = scaler
        return scaler
