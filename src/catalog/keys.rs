//! Condition keys: the global keys (spec §6) and the service keys of the catalog's services
//! (spec §7.3), with their types and whether a request can carry several values for them.
//!
//! Key names ignore case. Tag keys are written as a prefix (`aws:PrincipalTag/`) that stands for
//! every key with a tag name after it.

use serde::Serialize;

/// The type of a condition key, in the Service Authorization Reference's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum KeyType {
    /// `String`.
    String,
    /// `ARN`: works with the ARN and the String operators.
    Arn,
    /// `Bool`.
    Bool,
    /// `Date`.
    Date,
    /// `Numeric`.
    Numeric,
    /// `IPAddress`.
    IpAddress,
    /// `aws:EpochTime`: Date or Numeric operators.
    DateOrNumeric,
}

impl KeyType {
    /// The SAR name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::String => "String",
            KeyType::Arn => "ARN",
            KeyType::Bool => "Bool",
            KeyType::Date => "Date",
            KeyType::Numeric => "Numeric",
            KeyType::IpAddress => "IPAddress",
            KeyType::DateOrNumeric => "Date or Numeric",
        }
    }
}

/// What the catalog knows of one condition key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// The name as documented; for a tag key, the prefix up to and including the `/`
    /// (`aws:PrincipalTag/`).
    pub name: &'static str,
    /// The value type (of each value, for a multi-valued key).
    pub ty: KeyType,
    /// Whether a request can carry several values (`ArrayOf…`): such a key needs a set
    /// qualifier (`ForAnyValue:`/`ForAllValues:`) and cannot be a policy variable (spec §3.12).
    pub multi_valued: bool,
}

impl KeyInfo {
    /// Whether this is a tag-key prefix (`aws:ResourceTag/`).
    pub fn is_prefix(&self) -> bool {
        self.name.ends_with('/')
    }

    /// The type with `ArrayOf` for a multi-valued key, as the SAR writes it.
    pub fn type_name(&self) -> String {
        if self.multi_valued {
            format!("ArrayOf{}", self.ty.as_str())
        } else {
            self.ty.as_str().to_string()
        }
    }
}

const fn key(name: &'static str, ty: KeyType) -> KeyInfo {
    KeyInfo {
        name,
        ty,
        multi_valued: false,
    }
}

const fn multi(name: &'static str, ty: KeyType) -> KeyInfo {
    KeyInfo {
        name,
        ty,
        multi_valued: true,
    }
}

/// The global condition keys (spec §6, plus a few documented ones the table leaves out).
pub(super) const GLOBAL_KEYS: &[KeyInfo] = &[
    key("aws:SourceIp", KeyType::IpAddress),
    key("aws:PrincipalAccount", KeyType::String),
    key("aws:PrincipalArn", KeyType::Arn),
    key("aws:PrincipalOrgID", KeyType::String),
    multi("aws:PrincipalOrgPaths", KeyType::String),
    key("aws:PrincipalTag/", KeyType::String),
    key("aws:PrincipalType", KeyType::String),
    key("aws:PrincipalIsAWSService", KeyType::Bool),
    key("aws:PrincipalServiceName", KeyType::String),
    multi("aws:PrincipalServiceNamesList", KeyType::String),
    key("aws:userid", KeyType::String),
    key("aws:username", KeyType::String),
    key("aws:SecureTransport", KeyType::Bool),
    key("aws:CurrentTime", KeyType::Date),
    key("aws:EpochTime", KeyType::DateOrNumeric),
    key("aws:RequestedRegion", KeyType::String),
    key("aws:ResourceAccount", KeyType::String),
    key("aws:ResourceOrgID", KeyType::String),
    multi("aws:ResourceOrgPaths", KeyType::String),
    key("aws:ResourceTag/", KeyType::String),
    key("aws:RequestTag/", KeyType::String),
    multi("aws:TagKeys", KeyType::String),
    key("aws:SourceVpce", KeyType::String),
    key("aws:SourceVpc", KeyType::String),
    key("aws:SourceVpcArn", KeyType::Arn),
    key("aws:VpcSourceIp", KeyType::IpAddress),
    key("aws:ViaAWSService", KeyType::Bool),
    multi("aws:CalledVia", KeyType::String),
    key("aws:CalledViaFirst", KeyType::String),
    key("aws:CalledViaLast", KeyType::String),
    key("aws:SourceArn", KeyType::Arn),
    key("aws:SourceAccount", KeyType::String),
    key("aws:SourceOrgID", KeyType::String),
    multi("aws:SourceOrgPaths", KeyType::String),
    key("aws:SourceIdentity", KeyType::String),
    key("aws:RoleSessionName", KeyType::String),
    key("aws:FederatedProvider", KeyType::String),
    key("aws:AssumedRoot", KeyType::Bool),
    key("aws:MultiFactorAuthPresent", KeyType::Bool),
    key("aws:MultiFactorAuthAge", KeyType::Numeric),
    key("aws:TokenIssueTime", KeyType::Date),
    key("aws:Ec2InstanceSourceVpc", KeyType::String),
    key("aws:Ec2InstanceSourcePrivateIPv4", KeyType::IpAddress),
    key("aws:VpceAccount", KeyType::String),
    key("aws:VpceOrgID", KeyType::String),
    multi("aws:VpceOrgPaths", KeyType::String),
    key("aws:UserAgent", KeyType::String),
    key("aws:Referer", KeyType::String),
];

/// The service keys of the catalog's services (spec §7.3).
pub(super) const SERVICE_KEYS: &[KeyInfo] = &[
    key("kinesis:FisActionId", KeyType::String),
    key("kinesis:FisInjectPercentage", KeyType::Numeric),
    multi("kinesis:FisTargetArns", KeyType::Arn),
];

/// Finds `key` (any case) in `table`: an exact name, or a tag key under a prefix.
pub(super) fn find(table: &'static [KeyInfo], key: &str) -> Option<&'static KeyInfo> {
    table.iter().find(|k| {
        if k.is_prefix() {
            key.len() > k.name.len()
                && key
                    .get(..k.name.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(k.name))
        } else {
            key.eq_ignore_ascii_case(k.name)
        }
    })
}

/// Whether `key` (as written in a policy, any case) is the key an action's list names as
/// `listed` (`aws:ResourceTag/${TagKey}` stands for every `aws:ResourceTag/<tag>`).
pub fn key_matches(listed: &str, key: &str) -> bool {
    match listed.strip_suffix("${TagKey}") {
        Some(prefix) => {
            key.len() > prefix.len()
                && key
                    .get(..prefix.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        }
        None => listed.eq_ignore_ascii_case(key),
    }
}
