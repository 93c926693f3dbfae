"""The news api: consumes the broker's queue and serves the latest articles over HTTP.

Run with `python3 -m apps.news_api` from the directory that holds apps/. Environment:

- ACTIVEMQ_HOST (activemq), ACTIVEMQ_STOMP_PORT (61613), ACTIVEMQ_QUEUE (news-queue),
  ACTIVEMQ_USER, ACTIVEMQ_PASSWORD (required, from a Secret; never logged): the broker.
- NEWS_API_BIND (0.0.0.0), NEWS_API_PORT (8080; 0 picks a free port and logs it).
- NEWS_API_MAX_ARTICLES (1000): articles kept in memory; the oldest received is evicted first.
- NEWS_API_MAX_CONNECTIONS (64): connections handled at once; more get 503.
- NEWS_API_TIMEOUT_SECONDS (10): a connection silent this long is closed.
- NEWS_API_MAX_MESSAGE_BYTES (262144): larger queue messages are dropped with a warning, as are
  messages with NaN/Infinity or nested deeper than 16.
- LOG_LEVEL (INFO).

Endpoints: GET / (index), GET /news/getAll, GET /healthz (alive), GET /readyz (200 once
subscribed to the queue, 503 before and while reconnecting).
Exit codes: 0 stopped by SIGTERM/SIGINT, 1 the port is taken, 2 bad configuration.
"""
