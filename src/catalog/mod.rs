//! The service catalog: actions, access levels, resource types, ARN formats and condition keys.
//!
//! Amazon Kinesis Data Streams first (spec §7). The data is compiled into the crate
//! (`kinesis.rs`, generated from `data/kinesis-actions.json` by `gen.py`), so a lookup is a
//! binary search with no parsing at run time. Other services are added the same way.

mod keys;
mod kinesis;
mod services;

use serde::Serialize;

use crate::arn::Arn;
use crate::ast::ActionPattern;
pub use keys::{key_matches, KeyInfo, KeyType};

/// An action's access level in the Service Authorization Reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum AccessLevel {
    /// List.
    List,
    /// Read.
    Read,
    /// Write.
    Write,
    /// "Tagging, Write".
    TaggingWrite,
}

/// A resource type of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ResourceType {
    /// `arn:${Partition}:kinesis:${Region}:${Account}:stream/${StreamName}`
    Stream,
    /// `arn:${Partition}:kinesis:${Region}:${Account}:stream/${StreamName}/consumer/${ConsumerName}:${Timestamp}`
    Consumer,
    /// `arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}`
    KmsKey,
    /// `arn:${Partition}:kinesis:${Region}:${Account}:channel/${ChannelId}`
    Channel,
}

impl ResourceType {
    /// The SAR name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Stream => "stream",
            ResourceType::Consumer => "consumer",
            ResourceType::KmsKey => "kmsKey",
            ResourceType::Channel => "channel",
        }
    }

    /// Classifies an ARN by the catalog's ARN formats; `None` when it is none of them.
    pub fn of_arn(arn: &str) -> Option<ResourceType> {
        let arn = Arn::parse(arn).ok()?;
        if arn.account().is_empty() {
            return None;
        }
        let resource = arn.resource();
        match arn.service() {
            "kms" => resource.starts_with("key/").then_some(ResourceType::KmsKey),
            "kinesis" => {
                if let Some(rest) = resource.strip_prefix("stream/") {
                    match rest.split_once("/consumer/") {
                        Some((stream, consumer)) => {
                            let (name, ts) = consumer.rsplit_once(':')?;
                            let ok = !stream.is_empty()
                                && !name.is_empty()
                                && !ts.is_empty()
                                && ts.bytes().all(|b| b.is_ascii_digit());
                            ok.then_some(ResourceType::Consumer)
                        }
                        None => (!rest.is_empty() && !rest.contains('/'))
                            .then_some(ResourceType::Stream),
                    }
                } else {
                    resource
                        .strip_prefix("channel/")
                        .filter(|r| !r.is_empty())
                        .map(|_| ResourceType::Channel)
                }
            }
            _ => None,
        }
    }
}

/// Which resources an action is authorized against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ResourceRequirement {
    /// No resource type: authorized against the resource `*` (spec §2.2 rule 7).
    WildcardOnly,
    /// One resource of one of these types per request.
    OneOf(&'static [ResourceType]),
    /// A resource of every one of these types; each must be allowed (spec §2.2 rule 9).
    AllOf(&'static [ResourceType]),
}

/// What the catalog knows of one action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ActionInfo {
    /// Service prefix, lower case.
    pub service: &'static str,
    /// The action name as the SAR spells it.
    pub name: &'static str,
    /// Access level.
    pub access_level: AccessLevel,
    /// Resource types.
    pub resources: ResourceRequirement,
    /// Condition keys the action supports (besides the global ones).
    pub condition_keys: &'static [&'static str],
    /// For the eight actions Kinesis lets a resource policy share: the resource type the policy
    /// is attached to.
    pub shareable: Option<ResourceType>,
}

impl ActionInfo {
    /// `service:Name`.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.service, self.name)
    }
}

/// Every action the catalog knows, sorted by service then lower-cased name.
pub fn actions() -> &'static [ActionInfo] {
    kinesis::ACTIONS
}

/// Looks up a lower-cased `service:name` (one hash lookup; this runs on every decision).
pub fn lookup_lc(action_lc: &str) -> Option<&'static ActionInfo> {
    lookup_id_lc(action_lc).map(|(_, a)| a)
}

/// A catalog action's dense id: its index in [`actions`]. The compiled engine interns actions
/// by it.
pub type ActionId = u16;

/// [`lookup_lc`], with the action's [`ActionId`].
pub fn lookup_id_lc(action_lc: &str) -> Option<(ActionId, &'static ActionInfo)> {
    type Map = rustc_hash::FxHashMap<String, (ActionId, &'static ActionInfo)>;
    static BY_NAME: std::sync::LazyLock<Map> = std::sync::LazyLock::new(|| {
        actions()
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                Some((
                    a.full_name().to_ascii_lowercase(),
                    (ActionId::try_from(i).ok()?, a),
                ))
            })
            .collect()
    });
    BY_NAME.get(action_lc).copied()
}

/// Looks up `service:Name`, ignoring case.
#[cfg(any(test, feature = "cli", feature = "server", feature = "replay"))]
pub fn lookup(action: &str) -> Option<&'static ActionInfo> {
    let (service, name) = action.split_once(':')?;
    if !service.eq_ignore_ascii_case("kinesis") {
        return None;
    }
    // Compare ignoring ASCII case without allocating (this runs on every decision).
    let lc = |s: &'static str| s.bytes().map(|b| b.to_ascii_lowercase());
    kinesis::ACTIONS
        .binary_search_by(|a| lc(a.name).cmp(name.bytes().map(|b| b.to_ascii_lowercase())))
        .ok()
        .and_then(|i| kinesis::ACTIONS.get(i))
}

/// Whether the catalog covers this service (so an unknown name in it is a typo).
pub fn knows_service(service: &str) -> bool {
    service.eq_ignore_ascii_case("kinesis")
}

/// Whether every resource ARN of `service` starts its resource part with a resource type
/// (`stream/…`, `key/…`, `user/…`), so that a wildcard there is one IAM does not allow
/// (spec §1.8: "arn:aws:iam::123456789012:u*" is not allowed). The catalog's services (their
/// ARN formats all name a type) and IAM, the User Guide's example. Other services (S3's
/// `bucket/key`, SQS's queue name) have no type to protect.
pub fn resources_are_typed(service: &str) -> bool {
    service == "iam" || ResourceType::ALL.iter().any(|t| t.service() == service)
}

impl ResourceType {
    /// Every resource type the catalog knows.
    pub const ALL: &'static [ResourceType] = &[
        ResourceType::Stream,
        ResourceType::Consumer,
        ResourceType::KmsKey,
        ResourceType::Channel,
    ];

    /// The service prefix of the type's ARNs (`kinesis`, `kms`).
    pub fn service(self) -> &'static str {
        match self {
            ResourceType::KmsKey => "kms",
            _ => "kinesis",
        }
    }

    /// The ARN format, as the Service Authorization Reference writes it.
    pub fn arn_format(self) -> &'static str {
        match self {
            ResourceType::Stream => "arn:${Partition}:kinesis:${Region}:${Account}:stream/${StreamName}",
            ResourceType::Consumer => "arn:${Partition}:kinesis:${Region}:${Account}:stream/${StreamName}/consumer/${ConsumerName}:${ConsumerCreationTimestamp}",
            ResourceType::KmsKey => "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}",
            ResourceType::Channel => "arn:${Partition}:kinesis:${Region}:${Account}:channel/${ChannelId}",
        }
    }
}

impl ResourceRequirement {
    /// The resource types (none for a wildcard-only action).
    pub fn types(self) -> &'static [ResourceType] {
        match self {
            ResourceRequirement::WildcardOnly => &[],
            ResourceRequirement::OneOf(t) | ResourceRequirement::AllOf(t) => t,
        }
    }
}

impl ActionInfo {
    /// Whether the action supports the condition key `key` (any case) besides the global keys
    /// every action supports: its own list (`aws:ResourceTag/${TagKey}`, `kinesis:Fis…`).
    pub fn lists_key(&self, key: &str) -> bool {
        self.condition_keys.iter().any(|k| key_matches(k, key))
    }
}

/// The global condition key `key` (any case; `aws:PrincipalTag/team` finds `aws:PrincipalTag/`).
pub fn global_key(key: &str) -> Option<&'static KeyInfo> {
    keys::find(keys::GLOBAL_KEYS, key)
}

/// Every global condition key the catalog knows.
pub fn global_keys() -> &'static [KeyInfo] {
    keys::GLOBAL_KEYS
}

/// A service condition key of a catalog service (`kinesis:FisTargetArns`), any case.
pub fn service_key(key: &str) -> Option<&'static KeyInfo> {
    keys::find(keys::SERVICE_KEYS, key)
}

/// A condition key the catalog knows: global or of a catalog service.
pub fn condition_key(key: &str) -> Option<&'static KeyInfo> {
    global_key(key).or_else(|| service_key(key))
}

/// Whether `prefix` (any case) is the prefix of an AWS service, as far as the catalog's list
/// of prefixes goes (best effort; see [`service_prefixes`]).
pub fn is_known_service_prefix(prefix: &str) -> bool {
    let lc = prefix.to_ascii_lowercase();
    services::SERVICE_PREFIXES
        .binary_search(&lc.as_str())
        .is_ok()
}

/// Known AWS service prefixes, sorted. Best effort: used to suggest a correction for a
/// misspelt prefix, never to reject one.
pub fn service_prefixes() -> &'static [&'static str] {
    services::SERVICE_PREFIXES
}

/// The catalog's actions of `service` (any case); empty for a service it does not cover.
pub fn service_actions(service: &str) -> &'static [ActionInfo] {
    if knows_service(service) {
        kinesis::ACTIONS
    } else {
        &[]
    }
}

/// The catalog's actions that `pattern` matches (`kinesis:Get*` -> GetRecords, …). For `*`
/// every known action; for a service the catalog does not cover, none.
pub fn matching_actions(pattern: &ActionPattern) -> Vec<&'static ActionInfo> {
    // The lower-cased names, made once (validation asks this for every action pattern).
    static NAMES_LC: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        actions()
            .iter()
            .map(|a| a.name.to_ascii_lowercase())
            .collect()
    });
    actions()
        .iter()
        .zip(NAMES_LC.iter())
        .filter(|(a, name)| pattern.matches_parts(a.service, name))
        .map(|(a, _)| a)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn generated_table_matches_the_data() {
        let data: serde_json::Value =
            serde_json::from_str(include_str!("data/kinesis-actions.json")).unwrap();
        let list = data.as_array().unwrap();
        assert_eq!(list.len(), actions().len());
        for a in list {
            let name = a["action"].as_str().unwrap();
            let info = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(info.full_name(), name);
            let wildcard = a["wildcard_resource_only"].as_bool().unwrap();
            assert_eq!(
                wildcard,
                info.resources == ResourceRequirement::WildcardOnly,
                "{name}"
            );
            let keys: Vec<&str> = a["condition_keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            assert_eq!(keys, info.condition_keys, "{name}");
            let shareable = a["shareable_via_kinesis_resource_policy"].as_str();
            assert_eq!(shareable, info.shareable.map(|t| t.as_str()), "{name}");
            let types: Vec<&str> = a["resource_types"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            let ours: Vec<&str> = match info.resources {
                ResourceRequirement::WildcardOnly => vec![],
                ResourceRequirement::OneOf(t) | ResourceRequirement::AllOf(t) => {
                    t.iter().map(|t| t.as_str()).collect()
                }
            };
            assert_eq!(types, ours, "{name}");
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            lookup("KINESIS:putrecord").map(|a| a.name),
            Some("PutRecord")
        );
        assert!(lookup("kinesis:PutRecordz").is_none());
        assert!(lookup("s3:GetObject").is_none());
        assert_eq!(
            lookup("kinesis:ListStreams").map(|a| a.resources),
            Some(ResourceRequirement::WildcardOnly)
        );
    }

    #[test]
    fn arn_types() {
        let t = ResourceType::of_arn;
        assert_eq!(
            t("arn:aws:kinesis:us-east-2:123456789012:stream/datastreamABC"),
            Some(ResourceType::Stream)
        );
        assert_eq!(
            t("arn:aws:kinesis:us-east-2:123456789012:stream/datastreamABC/consumer/consumerDEF:1674696300"),
            Some(ResourceType::Consumer)
        );
        assert_eq!(
            t("arn:aws:kms:us-east-1:123456789012:key/1234abcd"),
            Some(ResourceType::KmsKey)
        );
        assert_eq!(t("arn:aws:s3:::bucket"), None);
        assert_eq!(t("*"), None);
    }
}
