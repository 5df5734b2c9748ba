"""python -m ticketing.deploy post-deploy <stage>: the post-deploy step, by hand;
python -m ticketing.deploy policy <stage>: the IAM policy the stage's function gets."""

import argparse
import json

import boto3

from .policy import stage_policy
from .post_deploy import ZAPPA_SETTINGS, load_stage, post_deploy


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketing.deploy")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "post-deploy", help="secrets into the environment, the Kinesis trigger"
    )
    policy = commands.add_parser("policy", help="the function's IAM policy for the stage")
    for each in (command, policy):
        each.add_argument("stage")
        each.add_argument("--settings", default=ZAPPA_SETTINGS)
    args = parser.parse_args(argv)
    function_name, config = load_stage(args.stage, args.settings)
    if args.command == "policy":
        print(json.dumps(stage_policy(args.stage, config), indent=4))
        return
    session = boto3.Session(
        region_name=config.get("aws_region"), profile_name=config.get("profile_name")
    )
    post_deploy(session, function_name, config)


if __name__ == "__main__":
    main()
