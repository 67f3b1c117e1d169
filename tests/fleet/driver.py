#!/usr/bin/env python3
"""A boto3 driver for tests/fleet.rs: reads one JSON command per line on standard input, answers
one JSON line per command on standard output.

    {"gw": URL, "key": ACCESS_KEY, "op": "describe_stream_summary", "args": {...}}
      -> {"ok": true, "result": {...}}
      -> {"ok": false, "status": 400, "code": "AccessDeniedException", "message": "..."}

The keys are those of the credentials file given as the first argument. Each call is made once
(no retries), so the test sees every answer as the gateway gave it.
"""

import base64
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

REGION = "us-east-1"


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        keys = json.load(f)["keys"]
    clients = {}
    cfg = Config(
        region_name=REGION,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=15,
    )
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        gw, key = cmd["gw"], cmd["key"]
        if (gw, key) not in clients:
            k = keys[key]
            clients[(gw, key)] = boto3.session.Session().client(
                "kinesis",
                endpoint_url=gw,
                config=cfg,
                aws_access_key_id=key,
                aws_secret_access_key=k["secret"],
                aws_session_token=k.get("session_token"),
            )
        client = clients[(gw, key)]
        try:
            r = getattr(client, cmd["op"])(**cmd.get("args", {}))
            meta = r.pop("ResponseMetadata", {})
            out = {"ok": True, "status": meta.get("HTTPStatusCode"), "result": r}
        except ClientError as e:
            err = e.response.get("Error", {})
            out = {
                "ok": False,
                "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
                "code": err.get("Code"),
                "message": err.get("Message"),
            }
        except (BotoCoreError, ConnectionError) as e:
            out = {"ok": False, "status": 0, "code": "ConnectionError", "message": str(e)}
        print(
            json.dumps(
                out,
                default=lambda o: base64.b64encode(o).decode() if isinstance(o, bytes) else str(o),
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
