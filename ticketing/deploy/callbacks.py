"""Zappa's callbacks (zappa_settings.json `callbacks`), run on the deploying machine."""

import sys
from pathlib import Path


def post_deploy(zappa_cli):
    """After `zappa deploy` and `zappa update`: secrets into the environment, Kinesis trigger."""
    # Zappa loads this file by its path, as a module outside its package.
    project = str(Path(__file__).resolve().parents[2])
    if project not in sys.path:
        sys.path.insert(0, project)
    from ticketing.deploy.post_deploy import post_deploy as run

    run(zappa_cli.zappa.boto_session, zappa_cli.lambda_name, zappa_cli.stage_config)
