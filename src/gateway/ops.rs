//! Kinesis operations: which IAM action(s) each one needs, on which resource(s), with which
//! request context, read from the JSON body the client sent.
//!
//! | Operation | Action(s) | Resource |
//! | --- | --- | --- |
//! | stream operations (`PutRecord`, `GetShardIterator`, `DescribeStreamSummary`, `AddTagsToStream`, …) | `kinesis:<Operation>` | `StreamARN`, or `StreamName` in the caller's account |
//! | `GetRecords` | `kinesis:GetRecords` | the stream sealed in the gateway's shard iterator ([`crate::gateway::iterator`]); a `StreamARN` must name the same stream |
//! | `DescribeStreamConsumer`, `DeregisterStreamConsumer`, `SubscribeToShard` | `kinesis:<Operation>` | `ConsumerARN`, else `StreamARN/consumer/ConsumerName:*` |
//! | `RegisterStreamConsumer`, `ListStreamConsumers` | `kinesis:<Operation>` | `StreamARN` |
//! | `PutResourcePolicy`, `GetResourcePolicy`, `DeleteResourcePolicy`, `TagResource`, `UntagResource`, `ListTagsForResource` | `kinesis:<Operation>` | `ResourceARN` |
//! | `StartStreamEncryption`, `StopStreamEncryption` | `kinesis:<Operation>` | the stream and the KMS key (`KeyId` as an ARN, `alias/…` or a key id in the stream's account and region): both must be allowed, as the catalog lists two resource types |
//! | `CreateStream` with `Tags` | `kinesis:CreateStream` and `kinesis:AddTagsToStream` | the new stream |
//! | `RegisterStreamConsumer` with `Tags` | `kinesis:RegisterStreamConsumer` on the stream and `kinesis:TagResource` on `…/consumer/NAME:*` | |
//! | `ListStreams`, `DescribeLimits`, `DescribeAccountSettings`, `UpdateAccountSettings` | `kinesis:<Operation>` | `*` |
//!
//! The second action of `CreateStream` and `RegisterStreamConsumer` with `Tags` follows the
//! Kinesis API reference as I recall it ("in addition to … you must also have the … permission"
//! for tagging on create); the search corpus here did not have that page, so it is the
//! stricter reading, in one place (`plan`): a caller allowed to create but not to tag must
//! create without tags.
//!
//! Request context: `aws:RequestTag/<k>` and `aws:TagKeys` from `Tags` (`AddTagsToStream`,
//! `CreateStream`, `RegisterStreamConsumer`, `TagResource`), `aws:TagKeys` from `TagKeys`
//! (`RemoveTagsFromStream`, `UntagResource`). The gateway adds the keys every request has.
//!
//! An operation this table does not list is refused (`UnknownOperationException`): the gateway
//! cannot authorize what it cannot map, so it never forwards it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::arn::{Arn, ArnPattern};
use crate::request::{ContextValue, Scalar};

/// What a request is refused with before it is authorized: an AWS error code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError {
    /// The AWS error code (`__type`).
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl OpError {
    fn invalid(message: impl Into<String>) -> OpError {
        OpError {
            code: "InvalidArgumentException",
            message: message.into(),
        }
    }
}

/// Who the gateway is: the region and account its streams live in.
#[derive(Clone, Debug)]
pub struct Place {
    /// The partition, `aws`.
    pub partition: String,
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The account that owns the streams behind the gateway.
    pub account: String,
}

/// One authorization check: an action on a resource (and, for multi-resource actions, more).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// `kinesis:Action`.
    pub action: String,
    /// The resource ARN, or `*`.
    pub resource: String,
    /// Further resources that must be allowed too (the KMS key of StartStreamEncryption).
    pub extra_resources: Vec<String>,
}

/// What the gateway does with the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handling {
    /// Forward it to the upstream.
    Forward,
    /// Serve it locally (resource policies).
    PutResourcePolicy,
    /// Serve it locally.
    GetResourcePolicy,
    /// Serve it locally.
    DeleteResourcePolicy,
}

/// The plan for one request.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The operation name, e.g. `PutRecord`.
    pub operation: String,
    /// Every check must allow.
    pub checks: Vec<Check>,
    /// Request-specific context keys.
    pub context: Vec<(String, ContextValue)>,
    /// Forward or serve locally.
    pub handling: Handling,
    /// The primary resource ARN (the stream, consumer or `ResourceARN`), when there is one.
    pub resource: Option<String>,
}

/// The operations the gateway maps, and how they take their resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Takes {
    /// `StreamARN` or `StreamName`.
    Stream,
    /// `ShardIterator` (and optionally `StreamARN`).
    Iterator,
    /// `ConsumerARN`, or `StreamARN` + `ConsumerName`.
    Consumer,
    /// `ResourceARN`.
    ResourceArn,
    /// No resource (`*`).
    Account,
    /// The stream and a KMS key.
    StreamAndKey,
}

const OPERATIONS: &[(&str, Takes)] = &[
    ("AddTagsToStream", Takes::Stream),
    ("CreateStream", Takes::Stream),
    ("DecreaseStreamRetentionPeriod", Takes::Stream),
    ("DeleteResourcePolicy", Takes::ResourceArn),
    ("DeleteStream", Takes::Stream),
    ("DeregisterStreamConsumer", Takes::Consumer),
    ("DescribeAccountSettings", Takes::Account),
    ("DescribeLimits", Takes::Account),
    ("DescribeStream", Takes::Stream),
    ("DescribeStreamConsumer", Takes::Consumer),
    ("DescribeStreamSummary", Takes::Stream),
    ("DisableEnhancedMonitoring", Takes::Stream),
    ("EnableEnhancedMonitoring", Takes::Stream),
    ("GetRecords", Takes::Iterator),
    ("GetResourcePolicy", Takes::ResourceArn),
    ("GetShardIterator", Takes::Stream),
    ("IncreaseStreamRetentionPeriod", Takes::Stream),
    ("ListShards", Takes::Stream),
    ("ListStreamConsumers", Takes::Stream),
    ("ListStreams", Takes::Account),
    ("ListTagsForResource", Takes::ResourceArn),
    ("ListTagsForStream", Takes::Stream),
    ("MergeShards", Takes::Stream),
    ("PutRecord", Takes::Stream),
    ("PutRecords", Takes::Stream),
    ("PutResourcePolicy", Takes::ResourceArn),
    ("RegisterStreamConsumer", Takes::Stream),
    ("RemoveTagsFromStream", Takes::Stream),
    ("SplitShard", Takes::Stream),
    ("StartStreamEncryption", Takes::StreamAndKey),
    ("StopStreamEncryption", Takes::StreamAndKey),
    ("SubscribeToShard", Takes::Consumer),
    ("TagResource", Takes::ResourceArn),
    ("UntagResource", Takes::ResourceArn),
    ("UpdateAccountSettings", Takes::Account),
    ("UpdateMaxRecordSize", Takes::Stream),
    ("UpdateShardCount", Takes::Stream),
    ("UpdateStreamMode", Takes::Stream),
    ("UpdateStreamWarmThroughput", Takes::Stream),
];

/// Whether the operation's input has a `StreamName` member. Requests that give only
/// `StreamARN` are forwarded with `StreamName` added (the name from the ARN): Kinesis accepts
/// both together, and older Kinesis-compatible servers (kinesalite) read only the name.
pub fn takes_stream_name(operation: &str) -> bool {
    OPERATIONS
        .iter()
        .any(|(n, t)| *n == operation && matches!(t, Takes::Stream | Takes::StreamAndKey))
        && !matches!(
            operation,
            "RegisterStreamConsumer"
                | "ListStreamConsumers"
                | "UpdateStreamMode"
                | "UpdateMaxRecordSize"
        )
}

fn str_field<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, OpError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(OpError {
            code: "SerializationException",
            message: format!("`{name}` must be a string"),
        }),
    }
}

/// A stream name as Kinesis accepts it: 1–128 of `[a-zA-Z0-9_.-]`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks that an ARN the client gave is a Kinesis ARN of the partition, with no wildcard.
fn check_arn(arn: &str, what: &str, place: &Place) -> Result<(), OpError> {
    let ok = Arn::parse(arn).is_ok_and(|a| {
        a.partition() == place.partition
            && a.service() == "kinesis"
            && !a.region().is_empty()
            && a.account_id().is_some()
            && a.resource().starts_with("stream/")
    }) && arn.len() <= 2048
        && !arn.contains(['*', '?', ' ']);
    if ok {
        Ok(())
    } else {
        Err(OpError::invalid(format!(
            "{what} `{arn}` is not a Kinesis ARN (arn:{}:kinesis:REGION:ACCOUNT:stream/NAME)",
            place.partition
        )))
    }
}

/// The stream ARN of a request: `StreamARN`, else `StreamName` in the caller's account.
fn stream_arn(
    body: &Value,
    caller_account: Option<&str>,
    place: &Place,
) -> Result<Option<String>, OpError> {
    let arn = str_field(body, "StreamARN")?;
    let name = str_field(body, "StreamName")?;
    if let Some(arn) = arn {
        check_arn(arn, "StreamARN", place)?;
        if let Some(n) = name {
            if !arn.ends_with(&format!(":stream/{n}")) {
                return Err(OpError::invalid(format!(
                    "StreamName `{n}` and StreamARN `{arn}` name different streams"
                )));
            }
        }
        return Ok(Some(arn.to_string()));
    }
    match name {
        Some(n) if !valid_name(n) => Err(OpError::invalid(format!(
            "StreamName `{n}` must be 1-128 characters of a-z, A-Z, 0-9, `_`, `.` and `-`"
        ))),
        Some(n) => {
            // A name is resolved in the caller's account, as Kinesis does; an anonymous caller
            // has none, and gets the gateway's.
            let account = caller_account.unwrap_or(&place.account);
            Ok(Some(format!(
                "arn:{}:kinesis:{}:{account}:stream/{n}",
                place.partition, place.region
            )))
        }
        None => Ok(None),
    }
}

/// `aws:RequestTag/<k>` and `aws:TagKeys` from a `Tags` map.
fn tag_context(body: &Value, out: &mut Vec<(String, ContextValue)>) -> Result<(), OpError> {
    match body.get("Tags") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(tags)) => {
            let mut keys = Vec::new();
            for (k, v) in tags {
                let Value::String(v) = v else {
                    return Err(OpError {
                        code: "SerializationException",
                        message: format!("the value of tag `{k}` must be a string"),
                    });
                };
                out.push((
                    format!("aws:RequestTag/{k}"),
                    ContextValue::One(Scalar::string(v.as_str())),
                ));
                keys.push(Scalar::string(k.as_str()));
            }
            out.push(("aws:TagKeys".into(), ContextValue::Many(keys)));
            Ok(())
        }
        Some(_) => Err(OpError {
            code: "SerializationException",
            message: "`Tags` must be an object of strings".into(),
        }),
    }
}

/// `aws:TagKeys` from a `TagKeys` list.
fn tag_keys_context(body: &Value, out: &mut Vec<(String, ContextValue)>) -> Result<(), OpError> {
    match body.get("TagKeys") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) => {
            let mut keys = Vec::new();
            for k in items {
                let Value::String(k) = k else {
                    return Err(OpError {
                        code: "SerializationException",
                        message: "`TagKeys` must be a list of strings".into(),
                    });
                };
                keys.push(Scalar::string(k.as_str()));
            }
            out.push(("aws:TagKeys".into(), ContextValue::Many(keys)));
            Ok(())
        }
        Some(_) => Err(OpError {
            code: "SerializationException",
            message: "`TagKeys` must be a list of strings".into(),
        }),
    }
}

/// The tags of a `Tags` map (for mirroring), empty when there are none.
pub fn tags_of(body: &Value) -> BTreeMap<String, String> {
    body.get("Tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The keys of a `TagKeys` list.
pub fn tag_keys_of(body: &Value) -> Vec<String> {
    body.get("TagKeys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The ARN of a KMS key given as `KeyId`: an ARN as is, an alias or key id in the stream's
/// account and region. A `KeyId` that starts as an ARN but is not a KMS ARN is refused: checked
/// as given, it would match no `Resource` a Deny names (found by the `kinesis_plan` fuzz target).
fn kms_arn(key: &str, stream: &str, place: &Place) -> Result<String, OpError> {
    if key.starts_with("arn:") {
        return match crate::arn::Arn::parse(key) {
            Ok(a)
                if a.service() == "kms"
                    && a.partition() == place.partition
                    && !key.contains(['*', '?']) =>
            {
                Ok(key.to_string())
            }
            _ => Err(OpError::invalid(format!(
                "KeyId {key:?} is not a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/ID or alias/NAME)"
            ))),
        };
    }
    // The stream ARN was checked; on a shorter text the missing fields come from the place.
    let fields = ArnPattern::parse(stream);
    let region = fields.region().unwrap_or(&place.region);
    let account = fields.account().unwrap_or(&place.account);
    Ok(if key.starts_with("alias/") {
        format!("arn:{}:kms:{region}:{account}:{key}", place.partition)
    } else {
        format!("arn:{}:kms:{region}:{account}:key/{key}", place.partition)
    })
}

/// Maps one request: its operation (from `X-Amz-Target`), its JSON body, the caller's
/// account (`None` for anonymous callers), and for `GetRecords` the stream its shard iterator
/// was sealed for (the gateway checked the iterator's MAC).
pub fn plan(
    operation: &str,
    body: &Value,
    caller_account: Option<&str>,
    place: &Place,
    iterator_stream: Option<&str>,
) -> Result<Plan, OpError> {
    let Some(&(name, takes)) = OPERATIONS.iter().find(|(n, _)| *n == operation) else {
        return Err(OpError {
            code: "UnknownOperationException",
            message: format!(
                "the iamc gateway does not know the operation `{operation}`, so it cannot authorize it"
            ),
        });
    };
    if !body.is_object() {
        return Err(OpError {
            code: "SerializationException",
            message: "the request body must be a JSON object".into(),
        });
    }
    let action = format!("kinesis:{name}");
    let one = |resource: String| Check {
        action: action.clone(),
        resource,
        extra_resources: Vec::new(),
    };
    let mut context = Vec::new();
    let mut checks = Vec::new();
    let missing = |what: &str| OpError::invalid(format!("{name} needs {what}"));
    let resource = match takes {
        Takes::Account => {
            checks.push(one("*".into()));
            None
        }
        Takes::Stream => {
            let stream = match stream_arn(body, caller_account, place)? {
                Some(s) => s,
                // ListShards continues with a NextToken alone; the token names the stream, which
                // the gateway cannot read, so the request is authorized on `*` (only a policy
                // that allows every resource allows it).
                None if name == "ListShards" && body.get("NextToken").is_some() => "*".into(),
                None => return Err(missing("StreamName or StreamARN")),
            };
            checks.push(one(stream.clone()));
            match name {
                "CreateStream" => {
                    tag_context(body, &mut context)?;
                    // CreateStream with Tags also needs kinesis:AddTagsToStream on the stream.
                    if !tags_of(body).is_empty() {
                        checks.push(Check {
                            action: "kinesis:AddTagsToStream".into(),
                            resource: stream.clone(),
                            extra_resources: Vec::new(),
                        });
                    }
                }
                "AddTagsToStream" => tag_context(body, &mut context)?,
                "RemoveTagsFromStream" => tag_keys_context(body, &mut context)?,
                "RegisterStreamConsumer" => {
                    tag_context(body, &mut context)?;
                    let consumer =
                        str_field(body, "ConsumerName")?.ok_or_else(|| missing("ConsumerName"))?;
                    if !tags_of(body).is_empty() {
                        checks.push(Check {
                            action: "kinesis:TagResource".into(),
                            resource: format!("{stream}/consumer/{consumer}:*"),
                            extra_resources: Vec::new(),
                        });
                    }
                }
                _ => {}
            }
            (stream != "*").then_some(stream)
        }
        Takes::Iterator => {
            let given = stream_arn(body, caller_account, place)?;
            let stream = match (given, iterator_stream) {
                (Some(g), Some(s)) if g != s => {
                    return Err(OpError::invalid(format!(
                        "StreamARN {g} is not the stream of the ShardIterator ({s})"
                    )))
                }
                (_, Some(s)) => s.to_string(),
                (Some(g), None) => g,
                (None, None) => return Err(missing("ShardIterator")),
            };
            checks.push(one(stream.clone()));
            Some(stream)
        }
        Takes::Consumer => {
            let consumer = match str_field(body, "ConsumerARN")? {
                Some(arn) => {
                    check_arn(arn, "ConsumerARN", place)?;
                    if !arn.contains("/consumer/") {
                        return Err(OpError::invalid(format!(
                            "ConsumerARN `{arn}` is not a consumer ARN (…:stream/NAME/consumer/CONSUMER:TIMESTAMP)"
                        )));
                    }
                    arn.to_string()
                }
                None => {
                    let stream = str_field(body, "StreamARN")?
                        .ok_or_else(|| missing("ConsumerARN, or StreamARN and ConsumerName"))?;
                    check_arn(stream, "StreamARN", place)?;
                    let name = str_field(body, "ConsumerName")?
                        .ok_or_else(|| missing("ConsumerARN, or StreamARN and ConsumerName"))?;
                    // The consumer's creation timestamp is not in the request: the resource is
                    // written with `*` there, which only a pattern that allows any consumer of
                    // that name matches.
                    format!("{stream}/consumer/{name}:*")
                }
            };
            checks.push(one(consumer.clone()));
            Some(consumer)
        }
        Takes::ResourceArn => {
            let arn = str_field(body, "ResourceARN")?.ok_or_else(|| missing("ResourceARN"))?;
            check_arn(arn, "ResourceARN", place)?;
            checks.push(one(arn.to_string()));
            match name {
                "TagResource" => tag_context(body, &mut context)?,
                "UntagResource" => tag_keys_context(body, &mut context)?,
                _ => {}
            }
            Some(arn.to_string())
        }
        Takes::StreamAndKey => {
            let stream = stream_arn(body, caller_account, place)?
                .ok_or_else(|| missing("StreamName or StreamARN"))?;
            let key = str_field(body, "KeyId")?.ok_or_else(|| missing("KeyId"))?;
            checks.push(Check {
                action: action.clone(),
                resource: stream.clone(),
                extra_resources: vec![kms_arn(key, &stream, place)?],
            });
            Some(stream)
        }
    };
    let handling = match name {
        "PutResourcePolicy" => Handling::PutResourcePolicy,
        "GetResourcePolicy" => Handling::GetResourcePolicy,
        "DeleteResourcePolicy" => Handling::DeleteResourcePolicy,
        _ => Handling::Forward,
    };
    Ok(Plan {
        operation: name.to_string(),
        checks,
        context,
        handling,
        resource,
    })
}

#[cfg(test)]
mod tests;
