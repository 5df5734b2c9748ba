"""A database of its own, migrated and seeded with the demo catalogue, for code that runs in other
processes (the packaged Lambda handler, real servers): a PostgreSQL database beside the suite's
when the suite runs on PostgreSQL, else an SQLite file."""

import contextlib
import json
import os

from tests.test_settings import run_manage


def manage(*args, database_url):
    secret_key = "seeded-database-setup"
    result = run_manage(*args, env={"DATABASE_URL": database_url, "SECRET_KEY": secret_key})
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@contextlib.contextmanager
def seeded_database(suffix: str, tmp_dir):
    """Yields `{"url": ..., "event": {"slug", "artist", "artist_slug"}}` of a published event."""
    suite_url = os.environ.get("DATABASE_URL", "")
    on_postgres = suite_url.startswith("postgres")
    if on_postgres:
        server, name = suite_url.rsplit("/", 1)
        database = f"{name}_{suffix}"
        url = f"{server}/{database}"
        postgres(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                 f'CREATE DATABASE "{database}"')  # fmt: skip
    else:
        url = f"sqlite:///{tmp_dir / 'db.sqlite3'}"
    manage("migrate", "--noinput", database_url=url)
    manage("seed_demo", database_url=url)
    code = (
        "import json; from ticketing.events.models import Event; "
        "e = Event.objects.published().select_related('artist').first(); "
        "print(json.dumps({'slug': e.slug, 'artist': e.artist.name, "
        "'artist_slug': e.artist.slug}))"
    )
    event = json.loads(manage("shell", "--no-imports", "-c", code, database_url=url))
    try:
        yield {"url": url, "event": event}
    finally:
        if on_postgres:
            postgres(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def postgres(server, *statements):
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)
