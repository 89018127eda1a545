"""Downloads: what an operation copied into a temporary folder, sent as the file itself or as a zip of
the folder (written to disk, never held in memory), and removed once sent."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response


def _zip_folder(folder: Path, target: Path) -> None:
    """The regular files under ``folder``; a link is never followed (the download that filled the
    folder skipped every link already: this only keeps the zip from ever reading through one)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, path.relative_to(folder).as_posix())


async def download(copy: Callable[[Path], Path], filename: str) -> Response:
    """Run ``copy(into)`` (an operation that downloads into the folder ``into`` and returns the file or
    folder it wrote) in a worker thread; send a file as ``filename``'s extension says, a folder as
    ``<filename>.zip``. The temporary folder is removed after the response, or when ``copy`` fails."""
    scratch = Path(tempfile.mkdtemp(prefix="runner-ui-"))

    def prepare() -> tuple[Path, str]:
        written = copy(scratch / "copy")
        if written.is_dir():
            archive = scratch / f"{filename}.zip"
            _zip_folder(written, archive)
            return archive, archive.name
        return written, written.name

    try:
        path, name = await run_in_threadpool(prepare)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return FileResponse(path, filename=name, background=BackgroundTask(shutil.rmtree, scratch, True))
