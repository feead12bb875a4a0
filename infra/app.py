"""The CDK app: `make synth` writes one CloudFormation template per stage under infra/cdk.out/.

The functions deploy the zip `make package` built (`LAMBDA_PACKAGE`, default dist/vip-rewards-x86_64.zip);
their architecture is the package's. Deploy with the CDK CLI:
`cdk deploy --app "python -m infra.app" VipRewards-prod` (see docs/deploy.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk

from infra.package import default_output
from infra.stack import STAGES, VipRewardsStack

OUT = Path(__file__).resolve().parent / "cdk.out"


def build(stages: list[str] | None = None, outdir: str = str(OUT), package: Path | None = None) -> cdk.App:
    package = package or Path(os.environ.get("LAMBDA_PACKAGE") or default_output("x86_64"))
    if not package.is_file():
        raise SystemExit(f"{package} does not exist: build it first with `make package`")
    app = cdk.App(outdir=outdir)
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    for stage in stages or list(STAGES):
        VipRewardsStack(app, f"VipRewards-{stage}", STAGES[stage], package=package, env=env)
    return app


if __name__ == "__main__":
    build(os.environ.get("STAGES", "dev,prod").split(",")).synth()
