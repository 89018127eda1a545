"""FUSE filesystems over a ``BlobStore`` or an fsspec filesystem: the one binding loader (``binding``),
the read-only (``ro``) and read-write (``rw``, ``rw_staging``, ``rw_tree``) adapters, their readahead
(``readahead``, ``range_fetch``, ``span_fetch``, ``segment_pool``) and the mount lifecycle (``lifecycle``).

Nothing here knows about jobs; the strategies (``mounts.ro_mount``, ``mounts.rw_mount``) use it."""
