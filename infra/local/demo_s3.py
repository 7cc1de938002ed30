"""``make demo``: the demo scenario with its ledger on a local SeaweedFS S3 server.

Starts ``weed mini`` on 127.0.0.1 (data kept in DIR/.s3data), creates a versioned
bucket with Object Lock, runs the demo against ``s3://stagegate-demo/ledger``, verifies
the ledger from S3, and stops the server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BUCKET = "stagegate-demo"


def main(argv: list[str]) -> int:
    from gates.cli.context import quiet_library_logs
    from gates.errors import StagegateError
    from gates.extras import STACK, require
    from gates.terminal import console

    root = Path(argv[0] if argv else "demo-workspace").resolve()
    quiet_library_logs()
    out = console()
    try:
        require(STACK, "make demo")
    except StagegateError as e:
        out.print(f"[bold red]error:[/] {e.diagnostics()}")
        return 2
    from gates.demo.scenario import run_demo
    from gates.stack.seaweedfs import SeaweedFS

    data_dir = root.parent / f".{root.name}-s3data"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with SeaweedFS(data_dir=data_dir) as s3:
            out.print(f"SeaweedFS S3 on {s3.endpoint_url} (data in {data_dir})")
            os.environ.update(s3.env())
            s3.create_bucket(BUCKET, versioning=True, object_lock=True)
            run_demo(root, store=f"s3://{BUCKET}/ledger", console=out)
    except StagegateError as e:
        out.print(f"[bold red]error:[/] {e.diagnostics()}")
        return 2
    out.print("SeaweedFS stopped. The signed ledger stays in the bucket's data folder;")
    out.print(f"run `make demo-local` for a workspace whose ledger lives inside {root.name}/.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
