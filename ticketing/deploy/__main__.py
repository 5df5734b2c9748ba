"""python -m ticketing.deploy post-deploy <stage>: the post-deploy step, by hand."""

import argparse

import boto3

from .post_deploy import ZAPPA_SETTINGS, load_stage, post_deploy


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketing.deploy")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "post-deploy", help="secrets into the environment, the Kinesis trigger"
    )
    command.add_argument("stage")
    command.add_argument("--settings", default=ZAPPA_SETTINGS)
    args = parser.parse_args(argv)
    function_name, config = load_stage(args.stage, args.settings)
    session = boto3.Session(
        region_name=config.get("aws_region"), profile_name=config.get("profile_name")
    )
    post_deploy(session, function_name, config)


if __name__ == "__main__":
    main()
