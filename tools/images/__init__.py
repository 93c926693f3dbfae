"""Container images built offline: no registry, no Docker daemon, only Debian's mirror, PyPI and
Maven Central.

    from tools.images.build import build
    build()                  # {"activemq": Path, "news-job": Path, "news-api": Path}: docker-archives
    build(["news-api"])      # only that one; unchanged inputs -> the cached archive, no work

The modules, bottom up:
- archive: deterministic layer tarballs and docker-archive files (ImageConfig, write_layer,
  write_docker_archive); the only part other tools need for images of their own.
- cache, mounts: input-hash keys, atomic publishing, scratch directories that are unmounted
  before they are deleted.
- debian, pip, files, broker: layer recipes (a Debian rootfs via debootstrap + chroot apt-get;
  pinned PyPI packages; project files; the ActiveMQ distribution with its configuration).
- definition, catalog: what an image is made of, and the project's three images.
- build: recipes -> cached layers -> cached archives.

Image references come from apps/images.py; the Dockerfiles in apps/ and images/activemq/ are the
same images for users with Docker (a unit test keeps them in step).
"""
