"""Persistent connections are checked before each request's first query without a round trip
(ticketing/db/postgresql/): a connection the server ended is replaced, a live one kept."""

import time

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def checked_at_request_start():
    """What Django does before a request's first query when CONN_MAX_AGE keeps connections."""
    connection.health_check_enabled = True
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid):
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_live_connection_is_kept():
    pid = backend_pid()
    assert connection.is_usable()
    checked_at_request_start()
    assert backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_the_next_query():
    pid = backend_pid()
    terminate(pid)
    deadline = time.monotonic() + 5
    while connection.is_usable():  # the server's goodbye takes a moment to arrive
        assert time.monotonic() < deadline, "a terminated connection still looks usable"
        time.sleep(0.01)
    checked_at_request_start()
    assert backend_pid() != pid  # a new connection, and the query works


def test_a_connection_left_inside_a_transaction_is_not_reused():
    connection.ensure_connection()
    connection.connection.execute("BEGIN")
    try:
        assert not connection.is_usable()
    finally:
        connection.connection.execute("ROLLBACK")
    assert connection.is_usable()
