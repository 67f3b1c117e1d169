#!/usr/bin/env python3
"""Generates the access-analysis workload of BENCHMARKS.md (issue 16), deterministically:

  store/   a store with ACCOUNTS accounts and PRINCIPALS users and roles in all: every role has
           a trust policy (its account's users by name, another role of the account, or a
           role of the next account: cross-account chains), identity policies that read or
           write streams by name prefix and may assume roles, and STREAMS streams whose
           policies share reads with the next account;
  old.json, new.json
           two resource policies of POLICY_STATEMENTS statements each: new.json is old.json
           with one statement narrowed (no new access: the diff must prove it) ...
  new-wider.json
           ... and one with a statement widened to another account (new access).

  python3 benches/analysis/gen.py OUT [PRINCIPALS] [ACCOUNTS] [STREAMS] [POLICY_STATEMENTS]
"""
import json
import os
import random
import sys

out = sys.argv[1]
principals = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
n_accounts = int(sys.argv[3]) if len(sys.argv) > 3 else 20
n_streams = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
n_stmts = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
rng = random.Random(16)
os.makedirs(os.path.join(out, "store"), exist_ok=True)

accounts = [f"{100000000000 + i * 1111:012d}" for i in range(n_accounts)]
per = principals // n_accounts
teams = ["orders", "clicks", "audit", "billing", "search"]


def stream_arn(acct, name):
    return f"arn:aws:kinesis:us-east-1:{acct}:stream/{name}"


store = {"version": 1, "accounts": {}, "resources": {}}
for ai, acct in enumerate(accounts):
    nxt = accounts[(ai + 1) % n_accounts]
    users, roles = {}, {}
    n_users = per // 2
    n_roles = per - n_users
    for u in range(n_users):
        team = teams[u % len(teams)]
        stmts = [{
            "Effect": "Allow",
            "Action": ["kinesis:Get*", "kinesis:Describe*", "kinesis:List*"],
            "Resource": stream_arn(acct, f"{team}-*"),
        }]
        if u % 3 == 0:
            stmts.append({"Effect": "Allow", "Action": "sts:AssumeRole",
                          "Resource": f"arn:aws:iam::{acct}:role/app-*"})
        users[f"user{u}"] = {"inline": {"p": {"Version": "2012-10-17", "Statement": stmts}}}
    for r in range(n_roles):
        team = teams[r % len(teams)]
        stmts = [{
            "Effect": "Allow",
            "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:GetRecords",
                       "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"],
            "Resource": [stream_arn(acct, f"{team}-*"), stream_arn(nxt, f"{team}-*")],
        }, {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]
        who = rng.choice(["users", "role", "cross"])
        if who == "users":
            principal = {"AWS": [f"arn:aws:iam::{acct}:user/user{rng.randrange(n_users)}"
                                 for _ in range(3)]}
        elif who == "role":
            principal = {"AWS": f"arn:aws:iam::{acct}:role/app-{rng.randrange(n_roles)}"}
        else:
            prev = accounts[(ai - 1) % n_accounts]
            principal = {"AWS": f"arn:aws:iam::{prev}:role/app-{rng.randrange(n_roles)}"}
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
        roles[f"app-{r}"] = {"inline": {"p": {"Version": "2012-10-17", "Statement": stmts}},
                             "trust": trust}
    store["accounts"][acct] = {"users": users, "roles": roles}
    for s in range(n_streams // n_accounts):
        name = f"{teams[s % len(teams)]}-{s}"
        arn = stream_arn(acct, name)
        entry = {"tags": {"team": teams[s % len(teams)]}}
        if s % 2 == 0:
            entry["policy"] = {"Version": "2012-10-17", "Statement": [{
                "Sid": "shareReads", "Effect": "Allow", "Principal": {"AWS": nxt},
                "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator",
                           "kinesis:DescribeStreamSummary", "kinesis:ListShards"],
                "Resource": arn}]}
        store["resources"][arn] = entry

with open(os.path.join(out, "store", "store.json"), "w") as f:
    json.dump(store, f)


def policy(stmts):
    return {"Version": "2012-10-17", "Statement": stmts}


old = []
for i in range(n_stmts):
    acct = accounts[i % n_accounts]
    old.append({
        "Sid": f"s{i}", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{acct}:role/app-{i}"},
        "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator"],
        "Resource": f"arn:aws:kinesis:us-east-1:{accounts[0]}:stream/{teams[i % 5]}-{i}*",
    })
narrowed = json.loads(json.dumps(old))
narrowed[7]["Action"] = ["kinesis:GetRecords"]
wider = json.loads(json.dumps(old))
wider[500]["Principal"] = {"AWS": [wider[500]["Principal"]["AWS"], "999999999999"]}
for name, stmts in [("old.json", old), ("new.json", narrowed), ("new-wider.json", wider)]:
    with open(os.path.join(out, name), "w") as f:
        json.dump(policy(stmts), f)
print(f"{out}: {principals} principals in {n_accounts} accounts, {n_streams} streams; "
      f"policies of {n_stmts} statements")
