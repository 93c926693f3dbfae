"""The local cluster driver (see driver.py): upstream Kubernetes as host processes."""
