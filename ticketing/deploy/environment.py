"""Secrets into the function's environment, at deploy time.

SECRET_KEY and DATABASE_URL never appear in zappa_settings.json. They live in a Secrets Manager
secret (a JSON object of variable names to values) named by the stage's `environment_secret`; after
each deploy they are copied into the function's environment, which `zappa update` keeps (it only
adds its own variables). The function then reads plain environment variables: no Secrets Manager
call and no boto3 client on a cold start. To rotate, change the secret and run the post-deploy
step again.
"""

from __future__ import annotations

import json


class SecretFormatError(ValueError):
    pass


def read_secret_environment(secrets_client, secret_id: str) -> dict[str, str]:
    raw = secrets_client.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        values = json.loads(raw)
    except json.JSONDecodeError as error:
        raise SecretFormatError(f"secret {secret_id} is not JSON: {error.msg}") from None
    if not isinstance(values, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in values.items()
    ):
        raise SecretFormatError(f"secret {secret_id} must be a JSON object of strings")
    return values


def sync_secret_environment(lambda_client, secrets_client, function_name, secret_id) -> list[str]:
    """Merge the secret's variables into the function's environment; returns the names changed."""
    values = read_secret_environment(secrets_client, secret_id)
    config = lambda_client.get_function_configuration(FunctionName=function_name)
    current = config.get("Environment", {}).get("Variables", {})
    changed = sorted(name for name, value in values.items() if current.get(name) != value)
    if changed:
        lambda_client.update_function_configuration(
            FunctionName=function_name, Environment={"Variables": {**current, **values}}
        )
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function_name)
    return changed
