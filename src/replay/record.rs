//! One CloudTrail record: the fields replay reads (borrowed from the record's bytes where no
//! escape forces a copy), and the request it reconstructs.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;

use crate::ast::Instant;
use crate::catalog::{self, ResourceRequirement, ResourceType};
use crate::request::{time_keys, Caller, ContextValue, Request, Scalar};
use crate::store::Store;

type Str<'a> = Option<Cow<'a, str>>;

/// The fields of a CloudTrail record that replay reads; the rest is skipped unread.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Record<'a> {
    /// `eventSource`, e.g. `kinesis.amazonaws.com`.
    #[serde(borrow)]
    pub event_source: Str<'a>,
    /// `eventName`, the API operation.
    #[serde(borrow)]
    pub event_name: Str<'a>,
    /// `eventTime`, UTC.
    #[serde(borrow)]
    pub event_time: Str<'a>,
    /// `eventID`.
    #[serde(borrow, rename = "eventID")]
    pub event_id: Str<'a>,
    /// `awsRegion`.
    #[serde(borrow)]
    pub aws_region: Str<'a>,
    /// `recipientAccountId`: the account that received the call (the resource's).
    #[serde(borrow)]
    pub recipient_account_id: Str<'a>,
    /// `sourceIPAddress`: an IP address, or a service's DNS name.
    #[serde(borrow, rename = "sourceIPAddress")]
    pub source_ip_address: Str<'a>,
    /// `userAgent`.
    #[serde(borrow)]
    pub user_agent: Str<'a>,
    /// `vpcEndpointId`.
    #[serde(borrow)]
    pub vpc_endpoint_id: Str<'a>,
    /// `errorCode`: absent when the call succeeded.
    #[serde(borrow)]
    pub error_code: Str<'a>,
    /// `tlsDetails`: present when the call came over TLS (its content is not read).
    pub tls_details: Option<serde::de::IgnoredAny>,
    /// `requestParameters`.
    #[serde(borrow)]
    pub request_parameters: Option<Params<'a>>,
    /// `userIdentity`.
    #[serde(borrow)]
    pub user_identity: Option<Identity<'a>>,
    /// `resources[]`.
    #[serde(borrow)]
    pub resources: Option<Vec<ResourceRef<'a>>>,
}

/// `requestParameters`: the Kinesis parameters that name resources.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Params<'a> {
    /// `streamName`.
    #[serde(borrow)]
    pub stream_name: Str<'a>,
    /// `streamARN`.
    #[serde(borrow, rename = "streamARN")]
    pub stream_arn: Str<'a>,
    /// `consumerARN`.
    #[serde(borrow, rename = "consumerARN")]
    pub consumer_arn: Str<'a>,
    /// `resourceARN` (tagging and resource-policy operations).
    #[serde(borrow, rename = "resourceARN")]
    pub resource_arn: Str<'a>,
    /// `keyId` (StartStreamEncryption, StopStreamEncryption).
    #[serde(borrow)]
    pub key_id: Str<'a>,
}

/// `userIdentity`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Identity<'a> {
    /// `type`: IAMUser, AssumedRole, FederatedUser, Root, AWSAccount, AWSService, …
    #[serde(borrow, rename = "type")]
    pub ty: Str<'a>,
    /// `arn`.
    #[serde(borrow)]
    pub arn: Str<'a>,
    /// `principalId` (`AIDA…`, `AROA…:session`): `aws:userid`.
    #[serde(borrow)]
    pub principal_id: Str<'a>,
    /// `accountId`.
    #[serde(borrow)]
    pub account_id: Str<'a>,
    /// `invokedBy`: the service, for AWSService.
    #[serde(borrow)]
    pub invoked_by: Str<'a>,
    /// `sessionContext`.
    #[serde(borrow)]
    pub session_context: Option<SessionContext<'a>>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionContext<'a> {
    /// `sessionIssuer`: the role of a role session.
    #[serde(borrow)]
    pub session_issuer: Option<Issuer<'a>>,
    /// `attributes`.
    #[serde(borrow)]
    pub attributes: Option<Attributes<'a>>,
}

/// `sessionContext.sessionIssuer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Issuer<'a> {
    /// `type`: `Role` for a role session.
    #[serde(borrow, rename = "type")]
    pub ty: Str<'a>,
    /// `arn`: the role's ARN, with its path.
    #[serde(borrow)]
    pub arn: Str<'a>,
}

/// `sessionContext.attributes`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attributes<'a> {
    /// `mfaAuthenticated`: `"true"` or `"false"`.
    #[serde(borrow)]
    pub mfa_authenticated: Str<'a>,
    /// `creationDate`: when the session's credentials were issued.
    #[serde(borrow)]
    pub creation_date: Str<'a>,
}

/// An entry of `resources[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResourceRef<'a> {
    /// `ARN`.
    #[serde(borrow, rename = "ARN")]
    pub arn: Str<'a>,
}

/// What AWS recorded for the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// No `errorCode`: AWS allowed it.
    Allowed,
    /// `errorCode` `AccessDenied…`: AWS denied it.
    Denied,
    /// Another `errorCode`: the call failed for another reason (it says nothing certain about
    /// authorization, so it is not compared).
    OtherError(String),
}

impl Recorded {
    fn of(error_code: Option<&str>) -> Recorded {
        match error_code {
            None | Some("") => Recorded::Allowed,
            Some(c) if c.starts_with("AccessDenied") || c.ends_with("UnauthorizedOperation") => {
                Recorded::Denied
            }
            Some(c) => Recorded::OtherError(c.to_string()),
        }
    }
}

/// A request reconstructed from a record.
#[derive(Debug)]
pub struct Event {
    /// The request, with the context keys the record gives.
    pub request: Request,
    /// What AWS recorded.
    pub recorded: Recorded,
    /// `eventID`.
    pub event_id: String,
    /// `eventTime`.
    pub event_time: String,
    /// The principal events are grouped by: the role's ARN for a role session, else the
    /// caller's ARN.
    pub principal: String,
}

/// Why a record was not decided. [`Skip::reason`] is the key it is counted under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Not JSON, or not a record object.
    NotJson(String),
    /// Another service.
    OtherService(String),
    /// A field replay needs is missing.
    Missing(&'static str),
    /// An action the catalog does not know.
    UnknownAction(String),
    /// An identity type the store cannot model.
    Identity(String),
    /// A principal the store does not know.
    UnknownPrincipal(String),
    /// The resource cannot be built from the parameters.
    NoResource(String),
    /// A value that does not parse (a time, an ARN).
    Malformed(&'static str, String),
}

impl Skip {
    /// The reason, as counted (no per-event detail).
    pub fn reason(&self) -> String {
        match self {
            Skip::NotJson(_) => "not a JSON record".into(),
            Skip::OtherService(s) => format!("another service ({s})"),
            Skip::Missing(f) => format!("missing {f}"),
            Skip::UnknownAction(a) => format!("action not in the catalog ({a})"),
            Skip::Identity(t) => format!("identity type not modeled ({t})"),
            Skip::UnknownPrincipal(_) => "principal not in the store".into(),
            Skip::NoResource(_) => "resource not reconstructable".into(),
            Skip::Malformed(f, _) => format!("malformed {f}"),
        }
    }

    /// The detail for an example.
    pub fn detail(&self) -> String {
        match self {
            Skip::NotJson(d)
            | Skip::UnknownPrincipal(d)
            | Skip::NoResource(d)
            | Skip::Malformed(_, d) => d.clone(),
            Skip::OtherService(d) | Skip::UnknownAction(d) | Skip::Identity(d) => d.clone(),
            Skip::Missing(f) => (*f).to_string(),
        }
    }
}

fn s<'r>(v: &'r Str<'_>) -> Option<&'r str> {
    v.as_deref().filter(|t| !t.is_empty())
}

fn one(text: &str) -> ContextValue {
    ContextValue::One(Scalar::string(text))
}

/// Reconstructs the Kinesis request of a record, checking its principal against `store`.
pub fn reconstruct(rec: &Record<'_>, store: &Store) -> Result<Event, Skip> {
    let source = s(&rec.event_source).ok_or(Skip::Missing("eventSource"))?;
    if source != "kinesis.amazonaws.com" {
        return Err(Skip::OtherService(source.to_string()));
    }
    let name = s(&rec.event_name).ok_or(Skip::Missing("eventName"))?;
    let action = format!("kinesis:{name}");
    let info = catalog::lookup(&action).ok_or_else(|| Skip::UnknownAction(action.clone()))?;
    let time_text = s(&rec.event_time).ok_or(Skip::Missing("eventTime"))?;
    let time = Instant::parse(time_text)
        .ok_or_else(|| Skip::Malformed("eventTime", time_text.to_string()))?;
    let identity = rec
        .user_identity
        .as_ref()
        .ok_or(Skip::Missing("userIdentity"))?;
    let (caller, principal) = caller(identity, store)?;
    let region = s(&rec.aws_region).ok_or(Skip::Missing("awsRegion"))?;
    let account = s(&rec.recipient_account_id)
        .or_else(|| s(&identity.account_id))
        .ok_or(Skip::Missing("recipientAccountId"))?;
    let partition = caller.partition().unwrap_or("aws").to_string();
    let (resource, extra) = resource(rec, info.resources, &partition, region, account)?;
    let mut request = Request::new(caller, action, resource);
    request.extra_resources = extra;
    let ctx = &mut request.context;
    for (k, v) in time_keys(time) {
        ctx.insert(k, v);
    }
    ctx.insert("aws:RequestedRegion", one(region));
    if let Some(ip) = s(&rec.source_ip_address).and_then(|t| t.parse::<IpAddr>().ok()) {
        ctx.insert("aws:SourceIp", ContextValue::One(Scalar::ip(ip)));
    }
    if rec.tls_details.is_some() {
        ctx.insert("aws:SecureTransport", ContextValue::One(Scalar::bool(true)));
    }
    if let Some(ua) = s(&rec.user_agent) {
        ctx.insert("aws:UserAgent", one(ua));
    }
    if let Some(vpce) = s(&rec.vpc_endpoint_id) {
        ctx.insert("aws:SourceVpce", one(vpce));
    }
    if let Some(id) = s(&identity.principal_id) {
        ctx.insert("aws:userid", one(id));
    }
    let attrs = identity
        .session_context
        .as_ref()
        .and_then(|c| c.attributes.as_ref());
    if let Some(a) = attrs {
        match s(&a.mfa_authenticated) {
            Some("true") => ctx.insert(
                "aws:MultiFactorAuthPresent",
                ContextValue::One(Scalar::bool(true)),
            ),
            Some("false") => ctx.insert(
                "aws:MultiFactorAuthPresent",
                ContextValue::One(Scalar::bool(false)),
            ),
            _ => {}
        }
        if let Some(t) = s(&a.creation_date).and_then(Instant::parse) {
            ctx.insert("aws:TokenIssueTime", ContextValue::One(Scalar::date(t)));
        }
    }
    Ok(Event {
        request,
        recorded: Recorded::of(s(&rec.error_code)),
        event_id: s(&rec.event_id).unwrap_or_default().to_string(),
        event_time: time_text.to_string(),
        principal,
    })
}

/// The caller, and the principal it is grouped under.
fn caller(id: &Identity<'_>, store: &Store) -> Result<(Caller, String), Skip> {
    let ty = s(&id.ty).ok_or(Skip::Missing("userIdentity.type"))?;
    let arn = || s(&id.arn).ok_or(Skip::Missing("userIdentity.arn"));
    let parse =
        |a: &str| Caller::parse(a).map_err(|e| Skip::Malformed("userIdentity.arn", e.to_string()));
    let unknown = |a: &str| Skip::UnknownPrincipal(a.to_string());
    match ty {
        "IAMUser" => {
            let a = arn()?;
            let c = parse(a)?;
            let Caller::User {
                account, path_name, ..
            } = &c
            else {
                return Err(Skip::Malformed("userIdentity.arn", a.to_string()));
            };
            let (path, name) = split_path_name(path_name);
            store
                .account(account)
                .and_then(|acct| acct.user(name))
                .filter(|u| u.path == path)
                .ok_or_else(|| unknown(a))?;
            Ok((c, a.to_string()))
        }
        "AssumedRole" => {
            let a = arn()?;
            let issuer = id
                .session_context
                .as_ref()
                .and_then(|c| c.session_issuer.as_ref())
                .and_then(|i| s(&i.arn))
                .ok_or(Skip::Missing("sessionContext.sessionIssuer.arn"))?;
            let role = parse(issuer)?;
            let mut c = parse(a)?;
            let (Caller::Role { path_name, .. }, Caller::RoleSession { role_path, .. }) =
                (&role, &mut c)
            else {
                return Err(Skip::Malformed("userIdentity.arn", a.to_string()));
            };
            let (path, name) = split_path_name(path_name);
            let account = role.account().unwrap_or_default();
            store
                .account(account)
                .and_then(|acct| acct.role(name))
                .filter(|r| r.path == path)
                .ok_or_else(|| unknown(issuer))?;
            *role_path = path;
            let role_arn = c.role_arn().unwrap_or_default();
            Ok((c, role_arn))
        }
        "FederatedUser" => {
            let a = arn()?;
            let c = parse(a)?;
            if !matches!(c, Caller::FederatedUser { .. }) {
                return Err(Skip::Malformed("userIdentity.arn", a.to_string()));
            }
            // Its policies are those of the IAM user that called GetFederationToken, which
            // only the store's session entry names.
            store
                .session(a)
                .filter(|sess| sess.user.is_some())
                .ok_or_else(|| unknown(a))?;
            Ok((c, a.to_string()))
        }
        "Root" => {
            let account = s(&id.account_id)
                .or_else(|| s(&id.arn).and_then(|a| a.split(':').nth(4)))
                .ok_or(Skip::Missing("userIdentity.accountId"))?;
            let c = match s(&id.arn).map(Caller::parse) {
                Some(Ok(c @ Caller::Root { .. })) => c,
                _ => parse(&format!("arn:aws:iam::{account}:root"))?,
            };
            let known = store.account(account).is_some()
                || store
                    .organization()
                    .is_some_and(|o| o.accounts.contains_key(account));
            if !known {
                return Err(unknown(&format!("root of {account}")));
            }
            let arn = c.arn().unwrap_or_default();
            Ok((c, arn))
        }
        "AWSService" => {
            let svc = s(&id.invoked_by).ok_or(Skip::Missing("userIdentity.invokedBy"))?;
            let c = parse(svc)?;
            if !matches!(c, Caller::Service { .. }) {
                return Err(Skip::Malformed("userIdentity.invokedBy", svc.to_string()));
            }
            Ok((c, svc.to_string()))
        }
        other => Err(Skip::Identity(other.to_string())),
    }
}

/// `division/alice` -> (`/division/`, `alice`).
fn split_path_name(path_name: &str) -> (String, &str) {
    match path_name.rsplit_once('/') {
        Some((dirs, name)) => (format!("/{dirs}/"), name),
        None => ("/".to_string(), path_name),
    }
}

/// The primary resource and the extra ones of a multi-resource action.
fn resource(
    rec: &Record<'_>,
    need: ResourceRequirement,
    partition: &str,
    region: &str,
    account: &str,
) -> Result<(String, Vec<String>), Skip> {
    let types: &[ResourceType] = match need {
        ResourceRequirement::WildcardOnly => return Ok(("*".into(), Vec::new())),
        ResourceRequirement::OneOf(t) | ResourceRequirement::AllOf(t) => t,
    };
    let empty = Params::default();
    let p = rec.request_parameters.as_ref().unwrap_or(&empty);
    let listed = rec.resources.iter().flatten().filter_map(|r| s(&r.arn));
    let built =
        s(&p.stream_name).map(|n| format!("arn:{partition}:kinesis:{region}:{account}:stream/{n}"));
    // Candidates, most specific first: the ARN parameters, the stream built from its name, the
    // record's `resources`.
    let candidates: Vec<String> = [s(&p.consumer_arn), s(&p.resource_arn), s(&p.stream_arn)]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .chain(built)
        .chain(listed.map(str::to_string))
        .collect();
    let pick = |t: ResourceType| {
        candidates
            .iter()
            .find(|c| ResourceType::of_arn(c) == Some(t))
            .cloned()
    };
    let mut found = Vec::new();
    for &t in types {
        let got = if t == ResourceType::KmsKey {
            s(&p.key_id)
                .filter(|k| ResourceType::of_arn(k) == Some(ResourceType::KmsKey))
                .map(str::to_string)
        } else {
            pick(t)
        };
        match (got, need) {
            (Some(arn), ResourceRequirement::OneOf(_)) => return Ok((arn, Vec::new())),
            (Some(arn), _) => found.push((t, arn)),
            (None, ResourceRequirement::AllOf(_)) => {
                return Err(Skip::NoResource(format!(
                    "no {} ARN in requestParameters",
                    t.as_str()
                )))
            }
            (None, _) => {}
        }
    }
    // AllOf: the Kinesis resource first, the KMS key after it.
    found.sort_by_key(|(t, _)| *t == ResourceType::KmsKey);
    let mut arns = found.into_iter().map(|(_, a)| a);
    match arns.next() {
        Some(first) => Ok((first, arns.collect())),
        None => Err(Skip::NoResource(format!(
            "no {} ARN or streamName in requestParameters or resources",
            types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ))),
    }
}
