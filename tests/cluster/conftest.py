"""Real Redis servers for the cluster pieces (see tests/redisfix.py)."""

from tests.redisfix import (  # noqa: F401 - fixtures
    persistent_redis,
    redis_cluster,
    redis_cluster_servers,
    redis_server,
    redis_url,
)
