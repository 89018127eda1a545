"""Storage backends for the transfer engine and the mounts: the ``BlobStore`` protocol (``base``), a
generic fsspec implementation (``fsspec``), and a lean Azure Blob client (``azure``, over ``lean_http``
and ``azure_listing``). ``open_store`` (in ``open``) picks the fastest one for a filesystem."""
