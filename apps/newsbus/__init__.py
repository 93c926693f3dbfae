"""What the news job and the news api share: broker settings, the Broker seam, retry with
backoff, and the process lifecycle (logging, SIGTERM)."""
