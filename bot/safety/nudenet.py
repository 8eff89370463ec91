"""NudeNet's 320n detector, run with onnxruntime on the picture the image pipeline prepared.

The weights ship in the `nudenet` wheel from PyPI (nudenet/320n.onnx, 12 MB); nothing is downloaded at run
time. Only the model file is used: nudenet's own code reads pictures with OpenCV, while the pipeline already
has them as bytes for Pillow, and reading the model's scores as a whole array is cheaper than its per-box
Python loop. The pre-processing is nudenet's (pad to a square at the bottom and right, scale to 320, RGB in
0..1); the classes are its model's, in its order. Optional extra `.[safety]`: the wheel's licence is AGPL-3.0
(README "Safety")."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any

from PIL import Image

from bot.safety.screens import Verdict

SIZE = 320
LABELS = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED", "BELLY_COVERED",
    "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE", "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED",
)
# What makes a picture explicit for a channel that is not age-restricted (Discord's policy): exposed
# genitals, anus, female breasts and buttocks. Covered parts, faces, bellies and feet are not.
EXPLICIT = frozenset({"FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_EXPOSED",
                      "FEMALE_BREAST_EXPOSED", "BUTTOCKS_EXPOSED"})
# NudeNet keeps boxes from 0.2 up; 0.5 flags what it is fairly sure of (a false alarm is told privately and
# costs nothing; a miss is what the provider's own check and moderators still see).
THRESHOLD = 0.5


def model_path() -> Path | None:
    spec = importlib.util.find_spec("nudenet")  # finds the package without importing it (nor OpenCV)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "320n.onnx"
    return path if path.is_file() else None


def missing() -> str | None:
    """None when the screen can run, else what to install."""
    if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("numpy") is None \
            or model_path() is None:
        return "not installed (pip install 'vidu-bot[safety]')"
    return None


class NudeNetScreen:
    name = "nudenet"

    def __init__(self) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread: the image workers are already one process per core, niced below the bot.
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        path = model_path()
        assert path is not None, "nudenet is not installed"
        self._session: Any = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._explicit = [LABELS.index(label) for label in sorted(EXPLICIT)]

    def check(self, data: bytes) -> Verdict:
        import numpy as np

        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (SIZE, SIZE))  # a JPEG decodes at a fraction of its size: a third of the time
            rgb = im.convert("RGB")
        # Scaled to fit, then padded: the same pixels as padding first and scaling after, for less work.
        scale = SIZE / max(rgb.size)
        fitted = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                            Image.Resampling.BILINEAR)
        square = Image.new("RGB", (SIZE, SIZE))
        square.paste(fitted, (0, 0))
        pixels = np.asarray(square, dtype=np.float32) / 255.0
        blob = pixels.transpose(2, 0, 1)[np.newaxis]
        # (1, 4 + classes, boxes): per candidate box, its centre and size, then each class's score.
        scores = self._session.run(None, {self._input: blob})[0][0][4:]
        explicit = scores[self._explicit].max(axis=1)
        best = int(explicit.argmax())
        score = float(explicit[best])
        label = LABELS[self._explicit[best]]
        return Verdict(self.name, score >= THRESHOLD, label, round(score, 3))
