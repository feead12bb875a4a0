"""The CDK app: `make synth` writes one CloudFormation template per stage under infra/cdk.out/.

Deploy with the CDK CLI: `cdk deploy --app "python -m infra.app" VipRewards-prod` (see docs/deploy.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk

from infra.stack import STAGES, VipRewardsStack

OUT = Path(__file__).resolve().parent / "cdk.out"


def build(stages: list[str] | None = None, outdir: str = str(OUT)) -> cdk.App:
    app = cdk.App(outdir=outdir)
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    for stage in stages or list(STAGES):
        VipRewardsStack(app, f"VipRewards-{stage}", STAGES[stage], env=env)
    return app


if __name__ == "__main__":
    build(os.environ.get("STAGES", "dev,prod").split(",")).synth()
