"""The floor alone: a bare Django view on gunicorn (2 workers, production settings).

.venv/bin/python -m bench.floor
"""

from bench.harness import Gunicorn, bench_database, bench_port, floor, print_table

PORT = bench_port(0)


def main() -> None:
    with Gunicorn({"DATABASE_URL": bench_database("floor")}, port=PORT) as server:
        print_table([], floor(server.url))


if __name__ == "__main__":
    main()
