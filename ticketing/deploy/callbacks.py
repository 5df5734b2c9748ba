"""Zappa's callbacks (zappa_settings.json `callbacks`), run on the deploying machine."""

import json
import sys
from pathlib import Path


def _project_importable() -> None:
    # Zappa loads this file by its path, as a module outside its package.
    project = str(Path(__file__).resolve().parents[2])
    if project not in sys.path:
        sys.path.insert(0, project)


def settings(zappa_cli):
    """Once Zappa has read the stage's settings (every command): the function's IAM policy with
    the stage's region, account and name filled in (ticketing/deploy/policy.py)."""
    _project_importable()
    from ticketing.deploy.policy import stage_policy

    policy = stage_policy(zappa_cli.api_stage, zappa_cli.stage_config)
    zappa_cli.zappa.attach_policy = json.dumps(policy)


def post_deploy(zappa_cli):
    """After `zappa deploy` and `zappa update`: secrets into the environment, Kinesis trigger."""
    _project_importable()
    from ticketing.deploy.post_deploy import post_deploy as run

    run(zappa_cli.zappa.boto_session, zappa_cli.lambda_name, zappa_cli.stage_config)
