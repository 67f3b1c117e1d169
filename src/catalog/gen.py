#!/usr/bin/env python3
"""Regenerates src/catalog/kinesis.rs from src/catalog/data/kinesis-actions.json.

Run from the crate root: python3 src/catalog/gen.py && cargo fmt
The actions that need *all* their resource types (not one of them) are named here, per
spec section 2.2 rule 9: the SAR lists "required" for each type of the *ResourcePolicy and
tagging actions too, but those take one ResourceARN, a stream or a consumer.
"""
import json

ALL_OF = {"kinesis:StartStreamEncryption", "kinesis:StopStreamEncryption",
          "kinesis:AssociateStreamsWithChannel"}
LEVEL = {"Read": "Read", "Write": "Write", "List": "List", "Tagging, Write": "TaggingWrite"}
RTYPE = {"stream": "Stream", "consumer": "Consumer", "kmsKey": "KmsKey", "channel": "Channel"}

acts = json.load(open("src/catalog/data/kinesis-actions.json"))
out = ["//! Generated from data/kinesis-actions.json by gen.py beside this file; a test checks",
       "//! that the two agree. Do not edit by hand.", "",
       "use super::{AccessLevel, ActionInfo, ResourceRequirement, ResourceType};", "",
       "/// Every Amazon Kinesis Data Streams action, sorted by lower-cased name.",
       "pub(super) const ACTIONS: &[ActionInfo] = &["]
for a in sorted(acts, key=lambda a: a["action"].lower()):
    name = a["action"].split(":")[1]
    types = ", ".join("ResourceType::" + RTYPE[t] for t in a["resource_types"])
    if a["wildcard_resource_only"]:
        req = "ResourceRequirement::WildcardOnly"
    elif a["action"] in ALL_OF:
        req = f"ResourceRequirement::AllOf(&[{types}])"
    else:
        req = f"ResourceRequirement::OneOf(&[{types}])"
    keys = ", ".join(json.dumps(k) for k in a["condition_keys"])
    sh = a["shareable_via_kinesis_resource_policy"]
    sh = f"Some(ResourceType::{RTYPE[sh]})" if sh else "None"
    out.append(f'    ActionInfo {{ service: "kinesis", name: "{name}", '
               f'access_level: AccessLevel::{LEVEL[a["access_level"]]}, resources: {req}, '
               f'condition_keys: &[{keys}], shareable: {sh} }},')
out.append("];")
open("src/catalog/kinesis.rs", "w").write("\n".join(out) + "\n")
