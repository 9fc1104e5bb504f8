#!/usr/bin/env python3
"""Rebuild the vendored MediaPipe PoseLandmarker bundles in ``vision/models/``.

mediapipe 1.2.x (the runtime) ships no model files and gaitscope never
downloads weights at run time, so the BlazePose models are vendored.  They
are Apache-2.0 files that Google publishes inside two registry packages:

* PyPI ``mediapipe==0.10.21``: ``pose_detection.tflite`` (which already
  carries TFLite image metadata) and ``pose_landmark_full.tflite``;
* npm ``@mediapipe/pose``: ``pose_landmark_{lite,full,heavy}.tflite``.

The legacy landmark models carry no metadata, which the Tasks API needs to
build its image preprocessing, so this script adds it (float RGB input
normalised to [0, 1], i.e. mean 0 / std 255, exactly what the legacy graph
fed the model).  Each ``.task`` bundle is a stored (uncompressed) zip of
``pose_detector.tflite`` and ``pose_landmarks_detector.tflite`` with fixed
timestamps, so reruns give byte-identical files.

Usage::

    python scripts/build_pose_models.py [--wheel WHL] [--npm-tarball TGZ]

Needs ``pip`` and ``npm`` on PATH (or the two files passed in) plus the
``flatbuffers`` and ``numpy`` packages (both mediapipe dependencies).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import flatbuffers
import numpy as np

OUT_DIR = Path(__file__).resolve().parents[1] / "vision" / "models"

PIP_NAME, PIP_VERSION = "mediapipe", "0.10.21"
PIP_WHEEL_ARGS = ["--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                  "--implementation", "cp", "--only-binary=:all:"]
NPM_NAME, NPM_VERSION = "@mediapipe/pose", "0.5.1675469404"
PIP_SRC, NPM_SRC = f"{PIP_NAME}=={PIP_VERSION}", f"{NPM_NAME}@{NPM_VERSION}"

# (package, member path, expected SHA-256) of every model file used.
DETECTOR = (PIP_SRC, "mediapipe/modules/pose_detection/pose_detection.tflite",
            "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c")
LANDMARKERS = {
    "lite": (NPM_SRC, "package/pose_landmark_lite.tflite",
             "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
    "full": (PIP_SRC, "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
             "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
    "heavy": (NPM_SRC, "package/pose_landmark_heavy.tflite",
              "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"),
}
# The landmark model's five outputs, in the order the Tasks graph reads them.
LANDMARK_OUTPUTS = [
    ("landmarks", "39 x (x, y, z, visibility, presence) in input-image pixels"),
    ("pose_flag", "Pose presence score."),
    ("segmentation", "256x256 person segmentation logits."),
    ("heatmap", "64x64x39 landmark heatmaps used for refinement."),
    ("world_landmarks", "39 x (x, y, z) in metres, hip-centred."),
]
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_ALIGN = 64  # member data offset alignment, so the tflite can be mapped in place


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def fetch_wheel(dest: Path) -> Path:
    """Download the mediapipe 0.10.21 wheel from PyPI with pip.

    A fixed platform tag is requested so every host gets the same file.
    """
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    *PIP_WHEEL_ARGS, PIP_SRC, "-d", str(dest)], check=True)
    (wheel,) = dest.glob(f"{PIP_NAME}-{PIP_VERSION}-*.whl")
    return wheel


def fetch_npm_tarball(dest: Path) -> Path:
    """Fetch the ``@mediapipe/pose`` tarball from the npm registry with ``npm pack``."""
    out = subprocess.run(["npm", "pack", NPM_SRC, "--silent"], cwd=dest, check=True,
                         capture_output=True, text=True).stdout
    return dest / out.strip().splitlines()[-1]


def read_member(archive: Path, member: str) -> bytes:
    """Return one file from a wheel (zip) or npm tarball (gzipped tar)."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    with tarfile.open(archive, "r:gz") as tf:
        return tf.extractfile(member).read()


def load_schema_module(wheel: Path, name: str, tmp: Path):
    """Import a flatbuffers-generated schema module shipped in the wheel.

    ``schema_py_generated`` (TFLite model) and ``metadata_schema_py_generated``
    (TFLite metadata) are pure Python; they only need ``flatbuffers``.
    """
    path = tmp / f"{name}.py"
    path.write_bytes(read_member(wheel, f"mediapipe/tasks/metadata/{name}.py"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def landmark_metadata(meta_fb, variant: str) -> bytes:
    """Build the ``TFLITE_METADATA`` flatbuffer for a BlazePose landmark model.

    Parameters
    ----------
    meta_fb : module
        ``metadata_schema_py_generated``.
    variant : str
        ``"lite"``, ``"full"`` or ``"heavy"``, used in the description.

    Returns
    -------
    bytes
        A ``ModelMetadata`` buffer with file identifier ``M001``.
    """
    image = meta_fb.TensorMetadataT()
    image.name = "image"
    image.description = "RGB person crop, 256x256, scaled to [0, 1]."
    image.content = meta_fb.ContentT()
    image.content.contentPropertiesType = meta_fb.ContentProperties.ImageProperties
    image.content.contentProperties = meta_fb.ImagePropertiesT()
    image.content.contentProperties.colorSpace = meta_fb.ColorSpaceType.RGB
    norm = meta_fb.ProcessUnitT()
    norm.optionsType = meta_fb.ProcessUnitOptions.NormalizationOptions
    norm.options = meta_fb.NormalizationOptionsT()
    norm.options.mean, norm.options.std = [0.0], [255.0]
    image.processUnits = [norm]
    image.stats = meta_fb.StatsT()
    image.stats.min, image.stats.max = [0.0], [1.0]

    outputs = []
    for name, description in LANDMARK_OUTPUTS:
        tensor = meta_fb.TensorMetadataT()
        tensor.name, tensor.description = name, description
        tensor.content = meta_fb.ContentT()
        tensor.content.contentPropertiesType = meta_fb.ContentProperties.FeatureProperties
        tensor.content.contentProperties = meta_fb.FeaturePropertiesT()
        outputs.append(tensor)

    subgraph = meta_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [image], outputs
    model = meta_fb.ModelMetadataT()
    model.name = f"BlazePose GHUM 3D landmark ({variant})"
    model.description = ("33 body landmarks (+6 auxiliary) with visibility/presence, "
                         "world landmarks and segmentation. Metadata added by gaitscope.")
    model.license = "Apache License, Version 2.0"
    model.subgraphMetadata = [subgraph]
    model.minParserVersion = "1.0.0"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"M001")
    return bytes(builder.Output())


class _AlignedBuilder(flatbuffers.Builder):
    """Builder that 16-byte aligns byte vectors (TFLite's ``Buffer.data``).

    The schema declares ``force_align: 16`` on buffer data but the generated
    Python code ignores it; aligned weights keep every runtime happy.
    """

    def StartVector(self, elemSize, numElems, alignment):  # noqa: N802,N803
        if elemSize == 1:
            alignment = max(alignment, 16)
        return super().StartVector(elemSize, numElems, alignment)


def add_metadata(model: bytes, metadata: bytes, schema_fb) -> bytes:
    """Return ``model`` with ``metadata`` attached as ``TFLITE_METADATA``."""
    tree = schema_fb.ModelT.InitFromObj(schema_fb.Model.GetRootAs(model, 0))
    if any(m.name in (b"TFLITE_METADATA", "TFLITE_METADATA") for m in tree.metadata or []):
        raise ValueError("model already has TFLITE_METADATA")
    buffer = schema_fb.BufferT()
    buffer.data = np.frombuffer(metadata, dtype=np.uint8)
    tree.buffers.append(buffer)
    entry = schema_fb.MetadataT()
    entry.name, entry.buffer = "TFLITE_METADATA", len(tree.buffers) - 1
    tree.metadata = (tree.metadata or []) + [entry]
    builder = _AlignedBuilder(len(model) + 65536)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def write_bundle(path: Path, members: dict[str, bytes]) -> None:
    """Write a deterministic, uncompressed ``.task`` zip.

    Each member's data is aligned to ``ZIP_ALIGN`` bytes by padding the local
    extra field (the zipalign convention, header id 0xD935).
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system, info.external_attr = 3, 0o644 << 16
            data_start = zf.fp.tell() + 30 + len(name.encode()) + 6
            pad = -data_start % ZIP_ALIGN
            info.extra = struct.pack("<HHH", 0xD935, 2 + pad, ZIP_ALIGN) + b"\0" * pad
            zf.writestr(info, data)


def apache_license(wheel: Path) -> bytes:
    """Return the Apache-2.0 text from the wheel's LICENSE (minus appendices)."""
    text = read_member(wheel, f"{PIP_NAME}-{PIP_VERSION}.dist-info/LICENSE").decode()
    text = text.split("\n=====")[0].rstrip() + "\n"
    if "Apache License" not in text[:200] or "END OF TERMS AND CONDITIONS" not in text:
        raise ValueError("unexpected LICENSE text in the wheel")
    return text.encode()


def main(argv: list[str] | None = None) -> int:
    """Fetch the packages, build the bundles and write ``SHA256SUMS``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", type=Path, help=f"pre-downloaded {PIP_SRC} wheel")
    parser.add_argument("--npm-tarball", type=Path, help=f"pre-packed {NPM_SRC} tarball")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="pose-models-") as tmp_name:
        tmp = Path(tmp_name)
        archives = {PIP_SRC: args.wheel or fetch_wheel(tmp),
                    NPM_SRC: args.npm_tarball or fetch_npm_tarball(tmp)}
        schema_fb = load_schema_module(archives[PIP_SRC], "schema_py_generated", tmp)
        meta_fb = load_schema_module(archives[PIP_SRC], "metadata_schema_py_generated", tmp)

        sources = {}  # label -> (bytes, package, member)
        for label, (pkg, member, expected) in [("detector", DETECTOR), *LANDMARKERS.items()]:
            data = read_member(archives[pkg], member)
            if sha256(data) != expected:
                raise SystemExit(f"{pkg}:{member} has SHA-256 {sha256(data)}, "
                                 f"expected {expected}")
            sources[label] = (data, pkg, member)
        npm_full = read_member(archives[NPM_SRC], "package/pose_landmark_full.tflite")
        if npm_full != sources["full"][0]:
            raise SystemExit("npm and PyPI pose_landmark_full.tflite differ")

        lines = ["# SHA-256 of the bundles; verify with: sha256sum -c SHA256SUMS",
                 "# (run in vision/models; lines starting with # are notes)."]
        notes = ["", "# Source packages (fetched by scripts/build_pose_models.py):"]
        notes += [f"# {sha256(p.read_bytes())}  {p.name}  ({pkg})" for pkg, p in archives.items()]
        notes += ["", "# Source models (unmodified, as found in the packages):"]
        notes += [f"# {sha256(d)}  {pkg}:{member}" for d, pkg, member in sources.values()]
        notes += ["", "# Bundle members (pose_detector.tflite is the detector above, "
                  "unchanged; landmark models got TFLITE_METADATA):"]
        detector = sources["detector"][0]
        for variant in LANDMARKERS:
            landmarks = add_metadata(sources[variant][0], landmark_metadata(meta_fb, variant),
                                     schema_fb)
            name = f"pose_landmarker_{variant}.task"
            write_bundle(args.out / name, {"pose_detector.tflite": detector,
                                           "pose_landmarks_detector.tflite": landmarks})
            lines.append(f"{sha256((args.out / name).read_bytes())}  {name}")
            notes.append(f"# {sha256(landmarks)}  {name}:pose_landmarks_detector.tflite")
            print(f"wrote {args.out / name}")
        (args.out / "SHA256SUMS").write_text("\n".join(lines + notes) + "\n")
        (args.out / "LICENSE").write_bytes(apache_license(archives[PIP_SRC]))
    print(f"wrote {args.out / 'SHA256SUMS'} and {args.out / 'LICENSE'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
