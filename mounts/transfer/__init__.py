"""The parallel, verified, bounded-memory copy engines between a ``BlobStore`` and local files:
``downloader``, ``uploader``, their shared ``state`` (failure log, resume journal, MD5) and ``progress``."""
