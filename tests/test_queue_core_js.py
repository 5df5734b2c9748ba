"""The browser's twin of the draw and the proof of work (static/queue/queue-core.js) agrees
with the server's: run under Node's WebCrypto, the same API the browser's page uses."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ticketing.queue import draw, pow

SCRIPT = Path(__file__).parent.parent / "ticketing/queue/static/queue/queue-core.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js")

SEED = "5e" * 32
CASES = [(1, 0), (2, 1), (3, 2), (17, 9), (1000, 999), (123_457, 4242), (2**40 + 3, 2**39)]


def run_js(body: str):
    program = f"await import({json.dumps(str(SCRIPT))});\nconst Q = globalThis.QueueCore;\n{body}"
    done = subprocess.run([NODE, "--input-type=module", "-e", program], capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    return json.loads(done.stdout)


def test_the_browser_places_every_fan_where_the_server_does():
    calls = ", ".join(f"await Q.position({json.dumps(SEED)}, {c}, {i})" for c, i in CASES)
    assert run_js(f"console.log(JSON.stringify([{calls}]));") == [
        draw.position(bytes.fromhex(SEED), count, index) for count, index in CASES
    ]


def test_a_browser_solution_of_the_proof_of_work_is_accepted():
    challenge = "12.29410833.0123456789abcdef0123"
    nonce = run_js(f"console.log(JSON.stringify(await Q.solvePow({json.dumps(challenge)}, 12)));")
    assert pow.solved(challenge, nonce, 12)
    assert len(nonce) <= pow.MAX_NONCE_LENGTH
