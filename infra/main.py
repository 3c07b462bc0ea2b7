"""CDK entry point: `python main.py` (or `cdk synth`) writes one template per stage to cdk.out/.

Named main.py, not app.py: chalice imports the project's `app` module while packaging.
Select stages with `-c stage=prod` (default: all); override a stage setting with `-c <setting>=<value>`,
e.g. `-c object_lock_mode=COMPLIANCE -c alarm_email=ops@example.org` (see chorale_infra/stages.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
from chorale_infra.stack import ChoraleStack
from chorale_infra.stages import STAGES, StageSettings, inbox_max_receives, stage_settings, validation_max_receives

INFRA = Path(__file__).resolve().parent
PROJECT = INFRA.parent


def app_model() -> dict:
    """What the app needs (tables, queues, event sources…), read from its code in a clean interpreter."""
    result = subprocess.run(
        [sys.executable, "-m", "chorale_infra.introspect", str(PROJECT)],
        cwd=INFRA,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("JSII_", "CDK_"))},
    )
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit("infra: could not read the app's resources (above: importing app.py failed)")
    return json.loads(result.stdout)


def main() -> None:
    app = cdk.App()
    region = (
        os.environ.get("CDK_DEFAULT_REGION")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "eu-west-3"
    )
    os.environ.setdefault("AWS_DEFAULT_REGION", region)  # chalice's packager needs one, even offline
    selected = app.node.try_get_context("stage")
    names = [selected] if selected else list(STAGES)
    model = app_model()
    overrides = {key: app.node.try_get_context(key) for key in StageSettings.__dataclass_fields__}
    for name in names:
        stage_model = {
            **model,
            "max_receives": {
                **model["max_receives"],
                "VALIDATION_QUEUE": validation_max_receives(PROJECT, name),
                "INBOX_QUEUE": inbox_max_receives(PROJECT, name),
            },
        }
        ChoraleStack(
            app,
            stage_settings(name, overrides),
            stage_model,
            str(PROJECT),
            env=cdk.Environment(
                account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
                region=region,
            ),
            description=f"Chorale e-invoicing platform, stage {name} (infra/, issue #7)",
        )
    app.synth()


if __name__ == "__main__":
    main()
