"""`make package`: the Lambda deployment zip, as deployed by `make synth` (no CDK needed to build it).

Chalice packages `app.py`, `chalicelib/` and the wheels of `requirements.txt` for the Lambda platform;
this module then makes the zip fit for a cold start:

- hash-based `.pyc` for every module (`unchecked-hash`): Chalice dates every zip entry 1980-01-01, so
  ordinary timestamp `.pyc` would be stale on Lambda and every cold start would compile again (the code
  directory is read-only, so nothing is ever cached there);
- only the botocore service models the code uses (DynamoDB, Secrets Manager): botocore ships ~400;
  and only their entries in botocore's endpoint table (`endpoints.json`, 1.2 MB that every new client
  parses, about 4 MiB in memory for the container's life);
- nothing test-only or typing-only (third-party test suites, `.pyi` stubs, stripe's parameter
  TypedDicts, API usage examples), no data file nothing reads (dateutil's time-zone database), nor
  installers' bookkeeping (each wheel's `RECORD`, the list pip
  uninstalls from; licenses and metadata stay).

The zip is written reproducibly (sorted entries, fixed dates), so the same sources give the same bytes
and CloudFormation sees no change when nothing changed.

    python -m infra.package [--architecture x86_64|arm64] [--output dist/vip-rewards-x86_64.zip]
"""

from __future__ import annotations

import argparse
import ast
import compileall
import gzip
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURES = ("x86_64", "arm64")
PYTHON = (3, 11)
# Where Lambda unpacks the code: compiled into the .pyc so tracebacks name the deployed files.
LAMBDA_TASK_ROOT = "/var/task"
# The AWS services the code calls; every other botocore service model is dropped.
BOTOCORE_SERVICES = frozenset({"dynamodb", "secretsmanager"})
# Documentation for botocore's docstrings, never read when calling a service.
BOTOCORE_DOC_FILES = frozenset({"examples-1.json"})
# Third-party files that are never imported at run time.
TEST_DIRECTORIES = frozenset({"tests", "test", "testing"})
DROPPED_SUFFIXES = (".pyi",)
# What pip keeps to uninstall a wheel; nothing reads it at run time (stripe, botocore: 150 KB zipped).
DROPPED_DIST_INFO = frozenset({"RECORD"})
# Data files nothing reads on Lambda: dateutil's bundled time-zone database (150 KB zipped) serves only
# `dateutil.zoneinfo` and `tz.gettz`'s fallback; botocore uses `tz.tzutc`/`tzlocal` and the parser, and
# nothing here asks for a zone by name.
UNUSED_DATA_FILES = ("dateutil/zoneinfo/dateutil-zoneinfo.tar.gz",)
# Packages only type checkers read: stripe's request-parameter TypedDicts (a third of stripe's size) are
# imported under `if TYPE_CHECKING` only; the build fails if a module starts importing them at run time.
TYPING_ONLY_PACKAGES = ("stripe.params",)
# Must never ship: stripe imports aiohttp when present (a large, slow import the code never uses).
FORBIDDEN_TOP_LEVEL = frozenset({"aiohttp"})
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
MAX_BYTES = 8 * 1024 * 1024


class PackageError(RuntimeError):
    """The package could not be built, or is not fit to deploy."""


@dataclass(frozen=True)
class PackageReport:
    path: Path
    size_bytes: int
    files: int
    modules: int
    # Function (logical id in the template) → the handler Lambda imports and calls.
    handlers: dict[str, str]

    def describe(self) -> str:
        return (
            f"{self.path}: {self.size_bytes / 1024 / 1024:.2f} MB, {self.files} files, "
            f"{self.modules} modules each with a hash-based .pyc"
        )


def package_architecture(package: Path) -> str:
    """The Lambda architecture a built zip is for, read from its compiled extension modules."""
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    found = {
        arch
        for arch, machine in _MACHINES.items()
        for name in names
        if name.endswith(f"-{machine}-linux-gnu.so")
    }
    if len(found) != 1:
        raise PackageError(f"{package}: cannot tell its architecture (extension modules for {sorted(found)})")
    return found.pop()


_MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}


def default_output(architecture: str) -> Path:
    return ROOT / "dist" / f"vip-rewards-{architecture}.zip"


def build_package(output: Path, architecture: str = "x86_64") -> PackageReport:
    """Build the deployment zip for `architecture` at `output` and check it is fit to deploy."""
    if architecture not in ARCHITECTURES:
        raise PackageError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
    if sys.version_info[:2] != PYTHON:
        # The .pyc magic number is per minor version: bytecode of another Python is ignored on Lambda.
        raise PackageError(f"build the package with Python {PYTHON[0]}.{PYTHON[1]} (the Lambda runtime)")
    with tempfile.TemporaryDirectory(prefix="vip-package-") as scratch:
        chalice_out = _chalice_package(Path(scratch) / "chalice", architecture)
        staging = Path(scratch) / "staging"
        with zipfile.ZipFile(chalice_out / "deployment.zip") as source:
            source.extractall(staging)
        check_typing_only_packages(staging)
        trim(staging)
        compile_bytecode(staging)
        check_contents(staging)
        output.parent.mkdir(parents=True, exist_ok=True)
        write_zip(staging, output)
        report = PackageReport(
            path=output,
            size_bytes=output.stat().st_size,
            files=sum(1 for _ in _files(staging)),
            modules=sum(1 for _ in staging.rglob("*.py")),
            handlers=_handlers(chalice_out / "sam.json"),
        )
    if report.size_bytes > MAX_BYTES:
        raise PackageError(f"{report.describe()}: larger than the {MAX_BYTES // 1024 // 1024} MB budget")
    return report


def _chalice_package(out: Path, architecture: str) -> Path:
    """`chalice package`: app.py, chalicelib/ and Lambda-platform wheels of requirements.txt.

    In a child process: packaging imports `app` with the stage's environment variables set (as if on
    Lambda), and the settings it reads at import must not stay behind in the caller's process.
    Chalice builds a boto3 session: give it a region, no network probe.
    """
    code = (
        "import sys; from chalice.api import package_app; "
        "package_app(project_dir=sys.argv[1], output_dir=sys.argv[2], stage='dev', "
        "chalice_config={'lambda_architecture': sys.argv[3]})"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", **os.environ}
    built = subprocess.run(  # noqa: S603 (this interpreter, fixed code, our own paths)
        [sys.executable, "-c", code, str(ROOT), str(out), architecture], env=env, check=False
    )
    if built.returncode:
        raise PackageError(f"chalice package failed (exit status {built.returncode})")
    return out


def _handlers(template: Path) -> dict[str, str]:
    resources = json.loads(template.read_text())["Resources"]
    return {
        name: resource["Properties"]["Handler"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def trim(root: Path) -> None:
    """Drop what is never imported on Lambda: other AWS services' models, tests, stubs, docs."""
    data = root / "botocore" / "data"
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in BOTOCORE_SERVICES:
            shutil.rmtree(entry)
    for service in BOTOCORE_SERVICES:
        versions = sorted(p for p in (data / service).iterdir() if p.is_dir())
        for old in versions[:-1]:  # botocore always loads the newest API version
            shutil.rmtree(old)
        for doc in BOTOCORE_DOC_FILES:
            (versions[-1] / doc).unlink(missing_ok=True)
    trim_endpoints(data)
    for directory in sorted(root.rglob("*"), reverse=True):
        if directory.is_dir() and directory.name in TEST_DIRECTORIES and directory.parent != root:
            shutil.rmtree(directory)
    for path in list(_files(root)):
        installer_only = path.parent.name.endswith(".dist-info") and path.name in DROPPED_DIST_INFO
        if path.suffix in DROPPED_SUFFIXES or "__pycache__" in path.parts or installer_only:
            path.unlink()
    for package in TYPING_ONLY_PACKAGES:
        shutil.rmtree(root.joinpath(*package.split(".")))
    for data_file in UNUSED_DATA_FILES:
        root.joinpath(data_file).unlink(missing_ok=True)


def trim_endpoints(data: Path) -> None:
    """Keep, in every partition of botocore's endpoint table, the entries of the shipped services only.

    The partitions themselves (regions, DNS suffixes, defaults) stay whole; a service missing from the
    table would resolve with its partition's defaults, and no other service's model ships anyway.
    """
    prefixes = {_endpoint_prefix(data, service) for service in BOTOCORE_SERVICES}
    table_path = data / "endpoints.json"
    table = json.loads(table_path.read_text())
    for partition in table["partitions"]:
        partition["services"] = {
            name: entry for name, entry in partition["services"].items() if name in prefixes
        }
    table_path.write_text(json.dumps(table, separators=(",", ":")))


def _endpoint_prefix(data: Path, service: str) -> str:
    """The name a service goes by in the endpoint table (its model's `endpointPrefix`)."""
    (model,) = (data / service).glob("*/service-2.json*")
    raw = model.read_bytes()
    text = gzip.decompress(raw) if model.suffix == ".gz" else raw
    return str(json.loads(text)["metadata"]["endpointPrefix"])


def check_typing_only_packages(root: Path) -> None:
    """Fail when a module imports a typing-only package outside `if TYPE_CHECKING:` (it would break)."""
    for package in TYPING_ONLY_PACKAGES:
        package_dir = root.joinpath(*package.split("."))
        needle = package.encode()
        for path in root.rglob("*.py"):
            source = path.read_bytes()
            if needle not in source or path.is_relative_to(package_dir):
                continue
            for statement in _runtime_imports(ast.parse(source)):
                if any(name == package or name.startswith(f"{package}.") for name in statement):
                    raise PackageError(f"{path.relative_to(root)} imports {package} at run time")


def _runtime_imports(tree: ast.Module) -> Iterator[list[str]]:
    """Modules each import statement names, skipping those under `if TYPE_CHECKING:`."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            yield [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]


def compile_bytecode(root: Path) -> None:
    """A hash-based .pyc next to every module, valid whatever the files' dates."""
    ok = compileall.compile_dir(
        root,
        quiet=1,
        stripdir=str(root),
        prependdir=LAMBDA_TASK_ROOT,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        workers=1,
    )
    if not ok:
        raise PackageError("a module of the package does not compile")


def check_contents(root: Path) -> None:
    """Refuse a package that would deploy something it must not, or miss what it needs."""
    forbidden = sorted(p.name for p in root.iterdir() if p.name in FORBIDDEN_TOP_LEVEL)
    if forbidden:
        raise PackageError(f"the package must not contain {', '.join(forbidden)}")
    for needed in ("app.py", "chalicelib", "pynamodb", "stripe", "botocore"):
        if not (root / needed).exists():
            raise PackageError(f"the package lacks {needed}")
    missing = [str(py.relative_to(root)) for py in root.rglob("*.py") if not _pyc_path(py).exists()]
    if missing:
        raise PackageError(f"modules without bytecode: {', '.join(missing[:5])}")


def _pyc_path(source: Path) -> Path:
    tag = sys.implementation.cache_tag
    return source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"


def _files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())


def write_zip(root: Path, output: Path) -> None:
    """Sorted entries, fixed dates and modes: the same tree always gives the same bytes."""
    partial = output.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(_files(root)):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=ZIP_DATE)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(output)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the Lambda deployment zip.")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default="x86_64")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        report = build_package(args.output or default_output(args.architecture), args.architecture)
    except PackageError as exc:
        raise SystemExit(f"make package: {exc}") from exc
    print(report.describe())


if __name__ == "__main__":
    main()
