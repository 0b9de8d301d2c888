"""ctypes bindings to the espeak-ng library shipped in the ``espeakng-loader`` wheel.

Private module: :mod:`bargein.providers.espeak_tts` is the public face.

Two facts about espeak-ng shape this module:

- All of its state (voice, parameters, synth callback, buffers) lives in process globals, so
  every call into it holds :data:`LOCK`, and a synthesis sets voice and parameters afresh.
- That state also carries over from one synthesis to the next *inside the waveform
  generator* (the pitch-flutter phase, the amplitude of the last pitch period, the echo
  buffer...), so the same text spoken twice does not give the same samples. No API resets
  it. To be deterministic, each synthesis runs in a freshly loaded copy of the library:
  :func:`session` loads it, initialises it, and unloads it again (about 1 ms plus ~7 ms to
  load the voice's dictionary). The copy is private to bargein (in memory on Linux, else a
  file in a temporary folder: :mod:`bargein.providers._private_library`), so another
  package in the process that uses espeak-ng (phonemizers...) neither disturbs nor is
  disturbed by it.

Struct layouts follow ``speak_lib.h`` of espeak-ng 1.52 (the version in the wheel); the tests
check them empirically (word events carry sane text positions and audio times).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from bargein._extras import require
from bargein.providers._private_library import private_copy, unload

#: Serialises every use of the espeak-ng library in this process.
LOCK = threading.RLock()

# espeak_AUDIO_OUTPUT
AUDIO_OUTPUT_SYNCHRONOUS = 2
# espeak_Initialize options: report data errors instead of exiting the process.
INITIALIZE_DONT_EXIT = 0x8000
# espeak_POSITION_TYPE
POS_CHARACTER = 1
# espeak_Synth flags
CHARS_UTF8 = 1
ENDPAUSE = 0x1000  # add the end-of-sentence pause after the last clause
# espeak_EVENT_TYPE
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_SENTENCE = 2
EVENT_END = 5
EVENT_MSG_TERMINATED = 6
EVENT_SAMPLERATE = 8
# espeak_PARAMETER (PUNCTUATION and CAPITALS are refused by SetParameter in 1.52)
PARAM_RATE = 1
PARAM_VOLUME = 2
PARAM_PITCH = 3
PARAM_RANGE = 4
PARAM_WORDGAP = 7
#: Seed of espeak's noise generator (pinned for reproducible audio).
RAND_SEED = 20240611
# espeak_ERROR
EE_OK = 0
EE_NOT_FOUND = 2


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    )


class EspeakEvent(ctypes.Structure):
    """``espeak_EVENT`` (speak_lib.h, espeak-ng 1.52)."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters (not bytes) of the input
        ("length", ctypes.c_int),  # word length in characters (WORD events)
        ("audio_position", ctypes.c_int),  # ms from the start of this synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


class EspeakVoice(ctypes.Structure):
    """``espeak_VOICE`` (speak_lib.h)."""

    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated language)*, NUL
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(EspeakEvent)
)


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    """A voice (or voice variant) from ``espeak_ListVoices``."""

    name: str
    identifier: str
    languages: tuple[str, ...]
    gender: int


#: A raw event: (type, text_position, length, audio_position_ms).
RawEvent = tuple[int, int, int, int]


class Session:
    """A freshly loaded and initialised espeak-ng; use it through :func:`session`."""

    def __init__(self, lib: ctypes.CDLL, data_path: str) -> None:
        _declare(lib)
        self._lib = lib
        # buflength 0: espeak's default (60 ms per callback). The data path may name the
        # espeak-ng-data directory itself.
        rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise with data at {data_path} ({rate})")
        self.sample_rate: int = rate
        # espeak seeds its noise generator (breath, used by variants such as f2, f3, f5)
        # from time(NULL) on initialisation: pin it.
        seed = getattr(lib, "espeak_ng_SetRandSeed", None)
        if seed is not None:
            seed.argtypes = (ctypes.c_long,)
            seed.restype = None
            seed(RAND_SEED)
        self._chunks: list[bytes] = []
        self._events: list[RawEvent] = []
        # espeak keeps a raw pointer to the callback: hold the ctypes object while loaded.
        self._callback = SYNTH_CALLBACK(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, num_samples, events) -> int:  # type: ignore[no-untyped-def]
        if num_samples > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, 2 * num_samples))
        if events:
            i = 0
            while events[i].type != EVENT_LIST_TERMINATED:
                ev = events[i]
                self._events.append((ev.type, ev.text_position, ev.length, ev.audio_position))
                i += 1
        return 0

    def set_voice(self, name: str) -> int:
        """``espeak_SetVoiceByName``; returns espeak's error code (0: ok, 2: not found)."""
        return int(self._lib.espeak_SetVoiceByName(name.encode("utf-8")))

    def set_parameter(self, param: int, value: int) -> None:
        """``espeak_SetParameter`` with an absolute value."""
        err = self._lib.espeak_SetParameter(param, value, 0)
        if err != EE_OK:
            raise RuntimeError(f"espeak_SetParameter({param}, {value}) failed with code {err}")

    def voices(self, *, variants: bool = False) -> list[VoiceInfo]:
        """The language voices espeak knows, or with ``variants=True`` the voice variants."""
        spec = None
        if variants:
            keep = ctypes.c_char_p(b"variant")
            spec = EspeakVoice()
            spec.languages = ctypes.cast(keep, ctypes.c_void_p)
        arr = self._lib.espeak_ListVoices(ctypes.byref(spec) if spec is not None else None)
        out = []
        i = 0
        while arr[i]:
            v = arr[i].contents
            out.append(
                VoiceInfo(
                    name=(v.name or b"").decode("utf-8", "replace"),
                    identifier=(v.identifier or b"").decode("utf-8", "replace"),
                    languages=_parse_languages(v.languages),
                    gender=int(v.gender),
                )
            )
            i += 1
        return out

    def synth(self, text: str, *, end_pause: bool = False) -> tuple[bytes, list[RawEvent]]:
        """Speak ``text`` with the current voice and parameters.

        Returns the PCM16 audio at :attr:`sample_rate` and the raw events.
        """
        self._chunks, self._events = [], []
        data = text.encode("utf-8")
        buf = ctypes.create_string_buffer(data)
        flags = CHARS_UTF8 | (ENDPAUSE if end_pause else 0)
        err = self._lib.espeak_Synth(buf, len(data) + 1, 0, POS_CHARACTER, 0, flags, None, None)
        if err != EE_OK:
            raise RuntimeError(f"espeak_Synth failed with code {err}")
        self._lib.espeak_Synchronize()
        audio, events = b"".join(self._chunks), self._events
        self._chunks, self._events = [], []
        return audio, events


@contextlib.contextmanager
def session() -> Iterator[Session]:
    """A fresh espeak-ng for one job: loaded, initialised, then unloaded (holds the lock)."""
    with LOCK:
        path, data_path = _private_copy()
        lib = ctypes.CDLL(path)
        try:
            s = Session(lib, data_path)
            try:
                yield s
            finally:
                lib.espeak_Terminate()
        finally:
            unload(lib)


def _declare(lib: ctypes.CDLL) -> None:
    lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = (SYNTH_CALLBACK,)
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = (
        ctypes.c_void_p,  # text
        ctypes.c_size_t,  # size in bytes, with the NUL
        ctypes.c_uint,  # position
        ctypes.c_int,  # position_type
        ctypes.c_uint,  # end_position
        ctypes.c_uint,  # flags
        ctypes.POINTER(ctypes.c_uint),  # unique_identifier
        ctypes.c_void_p,  # user_data
    )
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.argtypes = ()
    lib.espeak_Synchronize.restype = ctypes.c_int
    lib.espeak_Terminate.argtypes = ()
    lib.espeak_Terminate.restype = ctypes.c_int
    lib.espeak_ListVoices.argtypes = (ctypes.POINTER(EspeakVoice),)
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(EspeakVoice))


def _parse_languages(addr: int | None) -> tuple[str, ...]:
    # (priority byte, NUL-terminated language name)* then a zero priority byte.
    out: list[str] = []
    while addr and ctypes.string_at(addr, 1) != b"\0":
        name = ctypes.string_at(addr + 1)
        out.append(name.decode("utf-8", "replace"))
        addr += 2 + len(name)
    return tuple(out)


_copy: tuple[str, str] | None = None


def _private_copy() -> tuple[str, str]:
    """(path of bargein's private copy of the library, espeak-ng data directory)."""
    global _copy
    with LOCK:
        if _copy is None:
            loader = require("espeakng_loader", extra="local", feature="espeak-ng TTS")
            source = loader.get_library_path()
            data_path = loader.get_data_path()
            name = os.path.basename(source).replace("espeak-ng", "espeak-ng-bargein", 1)
            _copy = (private_copy(source, name), data_path)
        return _copy


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What the library offers, read once per process."""

    sample_rate: int
    voices: tuple[VoiceInfo, ...]
    variants: tuple[VoiceInfo, ...]


_catalogue: Catalogue | None = None


def catalogue() -> Catalogue:
    """espeak-ng's native sample rate, voices and variants (cached)."""
    global _catalogue
    with LOCK:
        if _catalogue is None:
            with session() as s:
                _catalogue = Catalogue(
                    sample_rate=s.sample_rate,
                    voices=tuple(s.voices()),
                    variants=tuple(s.voices(variants=True)),
                )
        return _catalogue
