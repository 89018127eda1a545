"""Downloads: what an operation copied into a temporary folder, sent as the file itself or as a zip of
the folder (written to disk, never held in memory), and removed once sent."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from runner.workspace.job_records import visible_text
from runner.workspace.trees import iter_entries, remove_tree


def _zip_folder(folder: Path, target: Path) -> None:
    """The regular files under ``folder``, at any depth (a job's output may be deeper than Python's
    recursion limit: ``iter_entries`` walks with no recursion); a link is never followed (the download
    that filled the folder skipped every link already: this only keeps the zip from ever reading
    through one). A name that is not valid UTF-8 is stored as the job's record shows it (``visible_text``:
    a zip's names are UTF-8 text)."""
    regular = sorted((rel, entry.path) for rel, entry in iter_entries(folder)
                     if entry.is_file(follow_symlinks=False))
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for rel, path in regular:
            archive.write(path, visible_text(rel))


async def download(copy: Callable[[Path], Path], filename: str) -> Response:
    """Run ``copy(into)`` (an operation that downloads into the folder ``into`` and returns the file or
    folder it wrote) in a worker thread; send a file as ``filename``'s extension says, a folder as
    ``<filename>.zip``. The temporary folder is removed after the response, or when ``copy`` fails (at any
    depth, no link followed: ``remove_tree``)."""
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
        remove_tree(scratch)
        raise
    return FileResponse(path, filename=name, background=BackgroundTask(remove_tree, scratch))
