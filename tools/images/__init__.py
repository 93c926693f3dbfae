"""Container images built offline: Debian rootfs, layers and docker-archive files."""
