"""``upload`` mode: the job writes into a local folder; on exit everything is uploaded and verified.

``Materialized.host_path`` is the caller's ``workdir`` itself (the executor uses
``<ws>/jobs/<name>/outputs/<out>``): that is where the job's files are *staged*. On exit:

* normal exit or an exception from the job: every staged file is uploaded in parallel (large files as
  blocks) and verified (size; MD5 where the store keeps one); the job's exception is re-raised after;
* ``SkipFinalize``: nothing is uploaded, the staged data stays in ``workdir``; ``SkipFinalize`` is
  re-raised so every output strategy in an ``ExitStack`` sees it (the caller catches it);
* when any file fails: ``TransferFailed(failed=[...], staged=workdir)``. **A failed upload keeps the
  staged data**: nothing in ``workdir`` is deleted, so it can be retried or downloaded by hand.
* after a fully verified upload the staged copies are deleted (they are durable at the target); pass
  ``keep_staged=True`` to keep them.

A local target (``target.local_path``) is finalized by moving the staged files into place (a rename on
the same filesystem, a copy otherwise), following no link in the destination below the target's anchor
(its datastore's root; ``mounts.transfer.nofollow``): a job may have made links there. A file whose way
holds a link fails (``TransferFailed``, its staged copy kept); a link in a file's own name is replaced.

What is not a file (a FIFO, a device, a link to no file inside the output) is left out, and named in one
warning per output (logged, and kept in ``UploadStrategy.warnings`` for the job's record). Azure Blob
Storage stores a backslash in a name as ``/``: such a file is uploaded where Azure puts it, said, and two
files on one name, or a file and a folder of one name (``a`` and ``a\\b``), fail the output
(``separates_at_backslash``, ``azure_name``). A file whose name would so get an empty, ``.`` or ``..``
segment (``..\\..\\x`` as ``../../x``: no download could write it below its folder) is left out, named in
one warning, as a link is: the output is still made durable and the job still completes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mounts.base import Materialized, SkipFinalize, Target
from mounts.errors import LinkNotFollowed, TransferFailed, is_no_space, no_space_message
from mounts.stores.open import open_store
from mounts.transfer.downloader import TransferOptions
from mounts.transfer.nofollow import NoFollowFolders, anchor_of
from mounts.transfer.state import bad_segment, folder_clashes
from mounts.transfer.tree import SHOWN, LeftOut, iter_entries, named, printable, remove_tree
from mounts.transfer.uploader import LocalFile, left_out_note, list_local_files, upload_files

log = logging.getLogger(__name__)

NO_SPACE_HINT = ("free space on the datastore's disk, then move the staged data into place (the error says "
                 "where it is) or run the job again")
LINK_HINT = ("the runner writes no output through a link in a local datastore: find out what made it "
             "(a job's direct output can), remove it, then copy the staged data into place")


class UploadStrategy:
    """Stage the output locally; upload and verify it when the job is done (also when it failed)."""

    def __init__(self, *, quiet: bool = False, options: TransferOptions | None = None,
                 keep_staged: bool = False) -> None:
        self.quiet = quiet
        self.options = options or TransferOptions()
        self.keep_staged = keep_staged
        self.warnings: list[str] = []  # what finalizing left out or renamed, one sentence each (logged too)

    @contextmanager
    def materialize(self, target: Target, workdir: Path) -> Iterator[Materialized]:
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            yield Materialized(host_path=workdir, read_only=False)
        except SkipFinalize:
            log.info("output %s not uploaded (SkipFinalize); staged data kept in %s", target.url, workdir)
            raise
        except BaseException:
            self.finalize(target, workdir)  # outputs of a failed job are uploaded too (may be partial)
            raise
        self.finalize(target, workdir)

    def finalize(self, target: Target, staging: Path) -> None:
        """Make everything under ``staging`` durable at ``target``; raise ``TransferFailed`` if not."""
        anchor, base = anchor_of(target) if target.local_path is not None else (None, target.path)
        left: list[LeftOut] = []
        try:
            pairs = _destinations(target, staging, base, left)
        except TransferFailed as exc:
            if exc.staged is not None:
                raise
            raise TransferFailed(f"output {target.url}: {exc}; the staged data is kept in {staging}",
                                 failed=exc.failed, staged=staging,
                                 hint="move the deepest folders up in the job (or write an archive), "
                                      "then run it again") from exc
        if left:
            self.say(target, left_out_note(left))
        refused: list[LeftOut] = []  # names Azure would store with an empty, '.' or '..' segment
        if anchor is None and separates_at_backslash(target.fs):
            pairs = self._azure_names(target, staging, pairs, refused)
        if not pairs:
            if not left and not refused:
                log.warning("output %s: the job wrote nothing", target.url)
            elif not self.keep_staged:
                _clear(staging)  # what was left out: no FIFO or device node stays in the job's folder
            return
        try:
            if anchor is not None:
                _move_local(anchor, pairs, None if target.is_file else (staging, base))
            else:
                upload_files(open_store(target.fs), pairs, options=self.options, quiet=self.quiet,
                             description=f"upload {Path(target.path).name or target.url}")
        except TransferFailed as exc:
            raise TransferFailed(f"output {target.url}: {exc}; the staged data is kept in {staging}",
                                 failed=exc.failed, staged=staging, hint=exc.hint, total=exc.total) from exc
        if not self.keep_staged:
            _clear(staging)

    def say(self, target: Target, note: str) -> None:
        """A warning about ``target`` (what was left out or renamed): logged once, kept in ``warnings``."""
        self.warnings.append(note)
        log.warning("output %s: %s", target.url, note)

    def _azure_names(self, target: Target, staging: Path, pairs: list[tuple[LocalFile, str]],
                     refused: list[LeftOut]) -> list[tuple[LocalFile, str]]:
        """The pairs with each name the job gave as Azure Blob Storage keeps it (``azure_name``), said;
        one that would have an empty, ``.`` or ``..`` segment is left out (into ``refused``), said; two
        files on one name (which one would be kept is a matter of timing), or a file and a folder of one
        name (no download could make both), fail the output."""
        stored = [(item, azure_name(remote, item.rel)) for item, remote in pairs]
        if all(name == remote for (_, remote), (_, name) in zip(pairs, stored, strict=True)):
            return pairs
        kept: list[tuple[LocalFile, str]] = []
        for item, name in stored:
            why = bad_segment(_named(name, item))
            if why is None:
                kept.append((item, name))
            else:
                refused.append(LeftOut(item.rel, f"Azure Blob Storage would store it as "
                                                 f"{_named(name, item)}: {why}"))
        if refused:
            self.say(target, refused_note(refused))
        on_name: dict[str, list[str]] = {}
        for item, name in kept:
            on_name.setdefault(_named(name, item), []).append(item.rel)
        clashes = sorted((sorted(rels), f"would both be stored as {printable(name)}")
                         for name, rels in on_name.items() if len(rels) > 1)
        clashes += [([on_name[file][0], on_name[under][0]], f"would be stored as {printable(file)} and "
                     f"{printable(under)}: a file and a folder of one name, which no download can make")
                    for file, under in folder_clashes(on_name)]
        if clashes:
            shown = "; ".join(f"{' and '.join(map(printable, rels))} {why}" for rels, why in clashes[:SHOWN])
            raise TransferFailed(
                f"output {target.url}: {shown} (Azure Blob Storage takes a backslash in a name for a folder "
                f"separator); nothing was uploaded, the staged data is kept in {staging}",
                failed=sorted(rel for rels, _ in clashes for rel in rels), staged=staging,
                hint="rename one of them in the job (no backslash in a name), then run it again")
        renamed = sorted((item.rel, end) for item, name in kept if (end := _named(name, item)) != item.rel)
        if renamed:
            self.say(target, renamed_note(renamed))
        return kept


def _named(stored: str, item: LocalFile) -> str:
    """The end of the ``stored`` name that the job named (``item.rel`` as Azure keeps it)."""
    return stored[len(stored) - len(item.rel):]


def separates_at_backslash(fs: object) -> bool:
    """Whether ``fs`` is Azure Blob Storage (adlfs' protocols), whose service stores a backslash in a blob
    name as a forward slash, whatever the client sends (``%5C`` too): ``back\\slash`` becomes a folder
    ``back`` holding ``slash``."""
    protocol = getattr(fs, "protocol", ())
    return bool({"abfs", "abfss", "az"} & set((protocol,) if isinstance(protocol, str) else protocol))


def azure_name(remote: str, rel: str) -> str:
    """``remote`` with each backslash of ``rel``, the part of it the job named (its end), as Azure keeps
    it; a file output's own name (not the job's) is left as it is."""
    if "\\" not in rel or not remote.endswith(rel):
        return remote
    return remote[:len(remote) - len(rel)] + rel.replace("\\", "/")


def renamed_note(renamed: list[tuple[str, str]]) -> str:
    """The warning for files stored under another name than the job gave them: (name, stored as), sorted."""
    shown = ", ".join(f"{printable(rel)} as {printable(name)}" for rel, name in renamed[:SHOWN])
    more = f" and {len(renamed) - SHOWN} more" if len(renamed) > SHOWN else ""
    count = "1 file" if len(renamed) == 1 else f"{len(renamed)} files"
    return (f"{count} uploaded under another name: Azure Blob Storage takes a backslash in a name for a "
            f"folder separator: {shown}{more}; name files without a backslash to keep the names as they are")


def refused_note(refused: list[LeftOut]) -> str:
    """The warning for files left out because Azure would store them with an empty, ``.`` or ``..``
    segment (a backslash in a name is a folder separator there)."""
    count = "1 file" if len(refused) == 1 else f"{len(refused)} files"
    return (f"{count} not uploaded: {named(refused)}; Azure Blob Storage takes a backslash in a name for a "
            "folder separator, and no download can write a name with such a segment below its folder: name "
            "files without a backslash to keep them")


def _destinations(target: Target, staging: Path, base: str, left: list[LeftOut]
                  ) -> list[tuple[LocalFile, str]]:
    """Pair each staged file with where it goes: a remote path, or for a local target a path below its
    anchor (``base``: the target's own); what is not a file is collected in ``left``."""
    files = list_local_files(staging, left)
    if not target.is_file:
        return [(item, f"{base.rstrip('/')}/{item.rel}" if base else item.rel) for item in files]
    if not files:
        return []
    wanted = [item for item in files if item.rel == Path(target.path).name]
    if wanted or len(files) == 1:
        return [((wanted or files)[0], base)]
    names = ", ".join(item.rel for item in files[:5])
    raise TransferFailed(f"output {target.url} is a single file, but the job wrote {len(files)} files "
                         f"({names}); write only {Path(target.path).name}",
                         failed=[item.rel for item in files], staged=staging)


class _Failures(dict[str, str]):
    """What could not be moved into place (path in the staging -> why), and whether a link was refused
    or the target's disk was full."""

    links = False
    no_space = False

    def note(self, rel: str, exc: OSError | LinkNotFollowed, kept: Path, dest: Path) -> None:
        if isinstance(exc, LinkNotFollowed):
            self[rel], self.links = f"{exc}; the staged copy is kept at {kept}", True
        elif is_no_space(exc):  # the one wording for a full disk: where, not "[Errno 28]"
            self[rel], self.no_space = no_space_message(dest), True
        else:
            self[rel] = str(exc)


def _move_local(anchor: Path, pairs: list[tuple[LocalFile, str]],
                empty_dirs: tuple[Path, str] | None) -> None:
    """Move (or copy) each staged file to its path below ``anchor``, never through a link; then make the
    staged empty folders (``empty_dirs``: the staging folder and the target's path below the anchor)."""
    failed = _Failures()
    try:
        tree = NoFollowFolders(anchor)
    except OSError as exc:
        raise TransferFailed(f"{anchor} cannot be opened ({exc})",
                             failed=[item.rel for item, _ in pairs]) from exc
    with tree:
        tree.sweep_partials()  # what a runner that died while copying into this folder left
        # links first: each is a copy of a staged file, which must still be there
        for item, dest in sorted(pairs, key=lambda pair: not pair[0].link):
            try:
                if item.link:
                    tree.copy_in(item.path, dest)
                else:
                    tree.move_in(item.path, dest)
            except (OSError, LinkNotFollowed) as exc:
                failed.note(item.rel, exc, item.path, anchor / dest)
        if empty_dirs is not None and not failed:
            _recreate_empty_dirs(tree, anchor, *empty_dirs, failed)
    if failed:
        detail = "; ".join(f"{rel}: {why}" for rel, why in sorted(failed.items())[:5])
        raise TransferFailed(f"{len(failed)} file(s) could not be moved into place ({detail})",
                             failed=sorted(failed), disk_full=failed.no_space,
                             hint=LINK_HINT if failed.links else NO_SPACE_HINT if failed.no_space else None)


def _recreate_empty_dirs(tree: NoFollowFolders, anchor: Path, staging: Path, base: str, failed: _Failures
                         ) -> None:
    """Make every staged folder at the target (the moved files' folders exist already: one open each);
    a link to a folder in the staging is not followed. No recursion: a job can nest folders deeper than
    Python's recursion limit (``mounts.transfer.tree``)."""
    for rel, entry in iter_entries(staging):
        if not entry.is_dir(follow_symlinks=False):
            continue
        dest = f"{base}/{rel}" if base else rel
        try:
            tree.folder(dest)
        except (OSError, LinkNotFollowed) as exc:
            failed.note(rel + "/", exc, staging / rel, anchor / dest)


def _clear(staging: Path) -> None:
    """Remove the staged copies (they are durable at the target now); keep the folder itself. Any
    depth, no link followed, never raising (what is left is named in a warning)."""
    for child in staging.iterdir():
        remove_tree(child)
