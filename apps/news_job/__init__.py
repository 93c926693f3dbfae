"""The news job: reads articles and publishes each one to the broker's queue.

Run with `python3 -m apps.news_job` from the directory that holds apps/. Environment:

- ACTIVEMQ_HOST (activemq), ACTIVEMQ_STOMP_PORT (61613), ACTIVEMQ_QUEUE (news-queue),
  ACTIVEMQ_USER, ACTIVEMQ_PASSWORD (required, from a Secret; never logged): the broker.
- NEWS_JOB_INTERVAL_SECONDS (0): 0 publishes once and exits 0, so the pod runs under
  restartPolicy OnFailure or Never; N > 0 publishes every N seconds until SIGTERM.
- NEWS_SOURCE_FILE (the bundled sample-articles.json): a NewsAPI-shaped JSON file, e.g. mounted
  from a ConfigMap; the source unless NEWSAPI_URL is set.
- NEWSAPI_URL: a NewsAPI-compatible /v2/everything endpoint; setting it selects that source.
  NEWSAPI_QUERY (technology) is its `q`; NEWSAPI_KEY (required then, from a Secret) is sent as
  the X-Api-Key header and never logged.
- NEWS_JOB_BROKER_WAIT_SECONDS (300): how long to wait for the broker before exiting 1.
- NEWS_JOB_READY_FILE (unset): a file that exists while the last batch reached the broker, for
  a readiness probe: a job that cannot log in (a rotated password) is then not Ready.
- LOG_LEVEL (INFO).

Exit codes: 0 done or stopped by SIGTERM/SIGINT, 1 broker or source unavailable, 2 bad config.
"""
