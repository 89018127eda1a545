"""Materialization strategies (download, ro_mount, direct, upload, rw_mount) over fsspec filesystems."""
