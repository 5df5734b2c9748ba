"""Django's PostgreSQL backend with a health check that costs no round trip.

With persistent connections (`CONN_MAX_AGE` > 0), Django checks a connection before the first
query of every request (`conn_health_checks`), with a `SELECT 1`: a round trip to the server per
request, as long as the widget API's own query (docs/benchmarks.md). Here a connection counts as
usable when psycopg knows it to be open and idle, and the server has sent nothing since its last
answer: a server that ends a connection (restart, failover, idle timeout, pg_terminate_backend)
sends an error and closes the socket, which shows as data waiting to be read. A reconnect is the
worst a false alarm costs. What it cannot see is what a `SELECT 1` would wait on before failing
(a silent network partition); the first query then fails, and Django drops the connection at the
end of that request.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
        return not readable
