//! ARNs, split once: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` (spec §2.2, §3.9).
//!
//! An ARN has six colon-separated fields; the sixth, the resource, is everything after the fifth
//! colon, so it may hold `:` itself (the Kinesis consumer `stream/S/consumer/C:1674696300`).
//! This module is the one place that splits ARN text:
//!
//! - [`Arn`] is a concrete ARN (a request's resource, a caller, a store entry): a borrowed view
//!   over the text, six fields, no allocation. [`Arn::parse`] checks only the shape (six fields,
//!   the first `arn`); each caller checks what it needs of the fields (an account of 12 digits,
//!   a non-empty region, no wildcards), because those rules differ between them.
//! - [`ArnPattern`] is the same split applied to a pattern (a `Resource` value, an `ArnLike`
//!   value): up to six fields, fewer for a short ARN (`arn:aws:kinesis`), each field a glob of
//!   its own. It views either the pattern's text (`ArnPattern<&str>`, what the validators and
//!   the parser read) or its compiled tokens (`ArnPattern<&[Tok]>`, where a `*` that a policy
//!   variable's value brought in is a literal and not a wildcard): the form an ARN automaton
//!   consumes field by field.
//!
//! ```
//! use iamc::arn::{Arn, ArnField, ArnPattern};
//!
//! let arn = Arn::parse("arn:aws:kinesis:us-east-1:111122223333:stream/S/consumer/C:1674696300")?;
//! assert_eq!(arn.service(), "kinesis");
//! assert_eq!(arn.resource(), "stream/S/consumer/C:1674696300");
//! assert_eq!(arn.resource_type(), Some("stream"));
//! assert_eq!(arn.to_string(), arn.as_str());
//!
//! let short = ArnPattern::parse("arn:aws:kinesis");
//! assert!(!short.is_complete());
//! assert_eq!(short.field(ArnField::Service), Some("kinesis"));
//! assert_eq!(short.field(ArnField::Region), None);
//! # Ok::<(), iamc::arn::ArnError>(())
//! ```

use std::fmt;

use crate::glob::{glob_match, Tok};

/// The fields of an ARN, in order. The first is the literal `arn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArnField {
    /// `arn`.
    Prefix,
    /// `aws`, `aws-cn`, `aws-us-gov`.
    Partition,
    /// `kinesis`, `iam`, `s3`.
    Service,
    /// `us-east-1`, or empty for global services.
    Region,
    /// The 12-digit account id, or empty (S3 buckets).
    Account,
    /// Everything after the fifth colon.
    Resource,
}

impl ArnField {
    /// Every field, in order.
    pub const ALL: [ArnField; 6] = [
        ArnField::Prefix,
        ArnField::Partition,
        ArnField::Service,
        ArnField::Region,
        ArnField::Account,
        ArnField::Resource,
    ];

    /// The field's position (0 for `arn`, 5 for the resource).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Why a text is not an ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// Fewer than six colon-separated fields.
    #[error(
        "it needs six colon-separated parts (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE), \
         not {found}"
    )]
    TooFewFields {
        /// How many fields the text has.
        found: usize,
    },
    /// Six fields, but the first is not `arn`.
    #[error("it does not start with `arn:`")]
    NotArn,
}

/// Splits `text` as an ARN is split: at its first five colons. Returns the fields (the missing
/// ones empty) and how many there are (1 to 6). The crate's only ARN splitter.
fn split(text: &str) -> ([&str; 6], usize) {
    let mut fields = [""; 6];
    let mut n = 0;
    let mut start = 0;
    // A byte scan: `:` is ASCII, so every cut is on a char boundary. (`splitn` with a char
    // pattern cost several times more, and this runs for every request.)
    for (i, b) in text.bytes().enumerate() {
        if b == b':' {
            fields[n] = text.get(start..i).unwrap_or("");
            n += 1;
            start = i + 1;
            if n == 5 {
                break;
            }
        }
    }
    fields[n] = text.get(start..).unwrap_or("");
    (fields, n + 1)
}

/// A concrete ARN, split into its six fields: a borrowed view of the text, allocation-free.
///
/// Any field but the prefix may be empty, and nothing is checked in them: [`Arn::parse`]
/// accepts `arn:::::` and `arn:aws:kinesis:*:*:stream/*`. Callers that need more (an account of
/// 12 digits, no wildcards) check it themselves, with [`Arn::account_id`] and friends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn<'a> {
    text: &'a str,
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text` into its six fields: it must have at least five colons and start with
    /// `arn:`. The resource is everything after the fifth colon. A text with fewer fields is
    /// [`ArnError::TooFewFields`] (checked first), one with another first field
    /// [`ArnError::NotArn`].
    pub fn parse(text: &'a str) -> Result<Arn<'a>, ArnError> {
        let (f, n) = split(text);
        if n < 6 {
            return Err(ArnError::TooFewFields { found: n });
        }
        let [prefix, partition, service, region, account, resource] = f;
        if prefix != "arn" {
            return Err(ArnError::NotArn);
        }
        Ok(Arn {
            text,
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// The whole ARN, as parsed.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The partition (`aws`).
    pub fn partition(&self) -> &'a str {
        self.partition
    }

    /// The service (`kinesis`).
    pub fn service(&self) -> &'a str {
        self.service
    }

    /// The region (`us-east-1`), maybe empty.
    pub fn region(&self) -> &'a str {
        self.region
    }

    /// The account field as written, maybe empty.
    pub fn account(&self) -> &'a str {
        self.account
    }

    /// The account when it is a 12-digit account id.
    pub fn account_id(&self) -> Option<&'a str> {
        is_account_id(self.account).then_some(self.account)
    }

    /// The resource: everything after the fifth colon (`stream/S/consumer/C:1674696300`).
    pub fn resource(&self) -> &'a str {
        self.resource
    }

    /// One field by name (`arn` for [`ArnField::Prefix`]).
    pub fn field(&self, f: ArnField) -> &'a str {
        self.fields()[f.index()]
    }

    /// The six fields, `arn` first.
    pub fn fields(&self) -> [&'a str; 6] {
        [
            "arn",
            self.partition,
            self.service,
            self.region,
            self.account,
            self.resource,
        ]
    }

    /// The resource type, by the convention of the services whose resources are typed
    /// (`type/…` or `type:…`: Kinesis `stream/NAME` and `stream/NAME/consumer/C:TS`, KMS
    /// `key/ID`, IAM `role/PATH/NAME` and `user/PATH/NAME`, STS `assumed-role/ROLE/SESSION`):
    /// the text before the first `/` or `:` of the resource. `None` when the resource has
    /// neither (IAM `root`). For services whose resources are not typed (S3's
    /// `bucket/key`) this is just the first segment; see
    /// `catalog::resources_are_typed` (crate-internal).
    pub fn resource_type(&self) -> Option<&'a str> {
        self.type_split().map(|(ty, _)| ty)
    }

    /// The resource after its type and the separator (`NAME/consumer/C:TS` for a Kinesis
    /// consumer, `PATH/NAME` for an IAM role, `ROLE/SESSION` for a role session); the whole
    /// resource when it has no type (IAM `root`).
    pub fn resource_id(&self) -> &'a str {
        self.type_split().map_or(self.resource, |(_, id)| id)
    }

    fn type_split(&self) -> Option<(&'a str, &'a str)> {
        let i = self.resource.find(['/', ':'])?;
        Some((self.resource.get(..i)?, self.resource.get(i + 1..)?))
    }

    /// Whether this is the ARN of a Kinesis stream: service `kinesis`, resource `stream/NAME`
    /// with a non-empty NAME and no further `/` (a consumer has one).
    pub fn is_kinesis_stream(&self) -> bool {
        self.service == "kinesis"
            && self
                .resource
                .strip_prefix("stream/")
                .is_some_and(|name| !name.is_empty() && !name.contains('/'))
    }
}

impl fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// Whether `s` is a 12-digit account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An ARN pattern split into its fields: up to six, fewer for a short ARN (`arn:aws:kinesis`).
/// The split is the ARN's (at the first five colons); nothing is required of the fields, not
/// even the `arn` prefix, so the pattern `*` is one field.
///
/// `S` is what the fields are: `&str` for the pattern's text ([`ArnPattern::parse`], where `*`
/// and `?` are wildcards) or `&[Tok]` for its compiled glob ([`ArnPattern::from_toks`], where
/// a `:` or `*` that a policy variable brought in is a literal `Tok::Lit`; a literal `:` still
/// separates fields, as ARN matching splits the pattern after variables are filled in).
///
/// Per-field matching is [`ArnPattern::matches`] (the `ArnLike` operators, spec §3.9). The
/// `Resource` element matches a pattern as one glob over the whole ARN instead (a trailing `*`
/// in a field may reach past its colon, spec §2.2 rule 4); its fields here are what indexes and
/// checks look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArnPattern<S> {
    fields: [S; 6],
    count: usize,
}

impl<S: Copy> ArnPattern<S> {
    /// How many fields the pattern has (1 to 6).
    pub fn field_count(&self) -> usize {
        self.count
    }

    /// Whether the pattern has all six fields (it is not a short ARN).
    pub fn is_complete(&self) -> bool {
        self.count == 6
    }

    /// One field, `None` when the pattern stops before it.
    pub fn field(&self, f: ArnField) -> Option<S> {
        let i = f.index();
        (i < self.count).then(|| self.fields[i])
    }

    /// The fields the pattern has, in order.
    pub fn fields(&self) -> &[S] {
        self.fields.get(..self.count).unwrap_or(&[])
    }

    /// The service field.
    pub fn service(&self) -> Option<S> {
        self.field(ArnField::Service)
    }

    /// The region field.
    pub fn region(&self) -> Option<S> {
        self.field(ArnField::Region)
    }

    /// The account field.
    pub fn account(&self) -> Option<S> {
        self.field(ArnField::Account)
    }

    /// The resource field.
    pub fn resource(&self) -> Option<S> {
        self.field(ArnField::Resource)
    }
}

impl<'a> ArnPattern<&'a str> {
    /// Splits a pattern's text (or any text: a malformed ARN gives fewer fields).
    pub fn parse(text: &'a str) -> ArnPattern<&'a str> {
        let (fields, count) = split(text);
        ArnPattern { fields, count }
    }

    /// Whether the first field is the literal `arn`.
    pub fn is_arn(&self) -> bool {
        self.field(ArnField::Prefix) == Some("arn")
    }

    /// Whether field `f` is present and has a wildcard (`*` or `?`).
    pub fn has_wildcard(&self, f: ArnField) -> bool {
        self.field(f).is_some_and(|s| s.contains(['*', '?']))
    }

    /// A bit per field (bit `ArnField::index`) set when that field has a wildcard.
    pub fn wildcard_fields(&self) -> u8 {
        ArnField::ALL
            .iter()
            .filter(|f| self.has_wildcard(**f))
            .fold(0, |bits, f| bits | (1 << f.index()))
    }
}

impl<'a> ArnPattern<&'a [Tok]> {
    /// Splits a compiled glob at its first five literal `:` tokens.
    pub fn from_toks(toks: &'a [Tok]) -> ArnPattern<&'a [Tok]> {
        let mut fields: [&'a [Tok]; 6] = [&[]; 6];
        let mut count = 0;
        let mut rest = toks;
        while count < 5 {
            let Some(i) = rest.iter().position(|t| *t == Tok::Lit(':')) else {
                break;
            };
            fields[count] = rest.get(..i).unwrap_or(&[]);
            rest = rest.get(i + 1..).unwrap_or(&[]);
            count += 1;
        }
        fields[count] = rest;
        ArnPattern {
            fields,
            count: count + 1,
        }
    }

    /// Whether field `f` is present and has a wildcard token.
    pub fn has_wildcard(&self, f: ArnField) -> bool {
        self.field(f)
            .is_some_and(|ts| ts.iter().any(|t| !matches!(t, Tok::Lit(_))))
    }

    /// ARN matching (spec §3.9, `ArnLike`/`ArnEquals`): each of the pattern's six fields
    /// matches the ARN's field of the same place, so a wildcard never crosses a colon in the
    /// first five; the last matches the whole resource, colons and all. A pattern with fewer
    /// than six fields matches nothing. Case-sensitive; allocates nothing.
    pub fn matches(&self, arn: &Arn<'_>) -> bool {
        self.is_complete()
            && self
                .fields
                .iter()
                .zip(arn.fields())
                .all(|(p, v)| glob_match(p, v))
    }
}

#[cfg(test)]
mod tests;
