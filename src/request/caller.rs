//! The caller of a request, parsed from a principal ARN: user, role, session, federated user,
//! root, service or anonymous.

use std::fmt;

use crate::arn::Arn;

/// Who makes a request, parsed from a principal ARN (spec §2.3, §4.6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    /// An unsigned request.
    Anonymous,
    /// The account root user, `arn:aws:iam::ACCOUNT:root`.
    Root {
        /// Partition (`aws`, `aws-cn`, …).
        partition: String,
        /// Account id.
        account: String,
    },
    /// An IAM user, `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    User {
        /// Partition.
        partition: String,
        /// Account id.
        account: String,
        /// Path and name after `user/`, e.g. `division/alice`.
        path_name: String,
    },
    /// An IAM role itself (as when simulating a role), `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    Role {
        /// Partition.
        partition: String,
        /// Account id.
        account: String,
        /// Path and name after `role/`.
        path_name: String,
    },
    /// A role session, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    RoleSession {
        /// Partition.
        partition: String,
        /// Account id.
        account: String,
        /// The role's name (session ARNs carry no role path).
        role_name: String,
        /// The session name.
        session: String,
        /// The role's path, when known (from a store), e.g. `/teams/`; `/` otherwise.
        role_path: String,
    },
    /// A `GetFederationToken` session, `arn:aws:sts::ACCOUNT:federated-user/NAME`.
    FederatedUser {
        /// Partition.
        partition: String,
        /// Account id.
        account: String,
        /// The name given to GetFederationToken.
        name: String,
    },
    /// An AWS service principal such as `kinesis.amazonaws.com`.
    Service {
        /// The service principal name.
        name: String,
    },
}

/// Why a principal cannot be a caller ([`Caller::parse`]). Each variant holds the text (trimmed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallerError {
    /// Neither an ARN, `anonymous`, nor a service principal.
    #[error(
        "`{0}` is not a principal ARN (expected arn:aws:iam::ACCOUNT:user/NAME, \
         …:role/NAME, …:root, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, \
         …:federated-user/NAME, a service like kinesis.amazonaws.com, or `anonymous`)"
    )]
    NotAPrincipal(String),
    /// Fewer than six colon-separated parts.
    #[error("`{0}` is not an ARN: it needs six colon-separated parts")]
    NotAnArn(String),
    /// A region in a principal ARN.
    #[error("`{0}`: principal ARNs have an empty region")]
    Region(String),
    /// An account that is not 12 digits.
    #[error("`{0}`: the account must be 12 digits")]
    Account(String),
    /// A wildcard in the resource part.
    #[error("`{0}`: a caller has no wildcards")]
    Wildcard(String),
    /// Not a user, role, root, assumed-role or federated-user ARN.
    #[error("`{0}` is not a user, role, root, assumed-role or federated-user ARN")]
    Kind(String),
}

impl Caller {
    /// Parses a principal ARN, `anonymous`, or a service principal (`x.amazonaws.com`).
    pub fn parse(text: &str) -> Result<Caller, CallerError> {
        let t = text.trim();
        if t.is_empty() || t == "anonymous" {
            return Ok(Caller::Anonymous);
        }
        if !t.starts_with("arn:") {
            if t.ends_with(".amazonaws.com") && !t.contains(['/', ':', '*']) {
                return Ok(Caller::Service { name: t.into() });
            }
            return Err(CallerError::NotAPrincipal(t.into()));
        }
        // `t` starts with `arn:`, so the only error is too few fields.
        let Ok(arn) = Arn::parse(t) else {
            return Err(CallerError::NotAnArn(t.into()));
        };
        let (partition, service, region, account, resource) = (
            arn.partition(),
            arn.service(),
            arn.region(),
            arn.account(),
            arn.resource(),
        );
        if !region.is_empty() {
            return Err(CallerError::Region(t.into()));
        }
        if arn.account_id().is_none() {
            return Err(CallerError::Account(t.into()));
        }
        if resource.contains(['*', '?']) {
            return Err(CallerError::Wildcard(t.into()));
        }
        let (partition, account) = (partition.to_string(), account.to_string());
        let bad = || CallerError::Kind(t.into());
        match service {
            "iam" => {
                if resource == "root" {
                    Ok(Caller::Root { partition, account })
                } else if let Some(pn) = resource.strip_prefix("user/") {
                    nonempty_last(pn).ok_or_else(bad)?;
                    Ok(Caller::User {
                        partition,
                        account,
                        path_name: pn.into(),
                    })
                } else if let Some(pn) = resource.strip_prefix("role/") {
                    nonempty_last(pn).ok_or_else(bad)?;
                    Ok(Caller::Role {
                        partition,
                        account,
                        path_name: pn.into(),
                    })
                } else {
                    Err(bad())
                }
            }
            "sts" => {
                if let Some(rs) = resource.strip_prefix("assumed-role/") {
                    let (role, session) = rs.split_once('/').ok_or_else(bad)?;
                    if role.is_empty() || session.is_empty() || session.contains('/') {
                        return Err(bad());
                    }
                    Ok(Caller::RoleSession {
                        partition,
                        account,
                        role_name: role.into(),
                        session: session.into(),
                        role_path: "/".into(),
                    })
                } else if let Some(name) = resource.strip_prefix("federated-user/") {
                    if name.is_empty() || name.contains('/') {
                        return Err(bad());
                    }
                    Ok(Caller::FederatedUser {
                        partition,
                        account,
                        name: name.into(),
                    })
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }

    /// The caller's own ARN (`None` for anonymous).
    pub fn arn(&self) -> Option<String> {
        Some(match self {
            Caller::Anonymous => return None,
            Caller::Service { name } => name.clone(),
            Caller::Root { partition, account } => format!("arn:{partition}:iam::{account}:root"),
            Caller::User {
                partition,
                account,
                path_name,
            } => format!("arn:{partition}:iam::{account}:user/{path_name}"),
            Caller::Role {
                partition,
                account,
                path_name,
            } => format!("arn:{partition}:iam::{account}:role/{path_name}"),
            Caller::RoleSession {
                partition,
                account,
                role_name,
                session,
                ..
            } => format!("arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}"),
            Caller::FederatedUser {
                partition,
                account,
                name,
            } => format!("arn:{partition}:sts::{account}:federated-user/{name}"),
        })
    }

    /// The caller's account (`None` for anonymous and service principals).
    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Anonymous | Caller::Service { .. } => None,
            Caller::Root { account, .. }
            | Caller::User { account, .. }
            | Caller::Role { account, .. }
            | Caller::RoleSession { account, .. }
            | Caller::FederatedUser { account, .. } => Some(account),
        }
    }

    /// The caller's partition.
    pub fn partition(&self) -> Option<&str> {
        match self {
            Caller::Anonymous | Caller::Service { .. } => None,
            Caller::Root { partition, .. }
            | Caller::User { partition, .. }
            | Caller::Role { partition, .. }
            | Caller::RoleSession { partition, .. }
            | Caller::FederatedUser { partition, .. } => Some(partition),
        }
    }

    /// For a role session, the ARN of its role (with the path when known); for a role, its own.
    pub fn role_arn(&self) -> Option<String> {
        match self {
            Caller::RoleSession {
                partition,
                account,
                role_name,
                role_path,
                ..
            } => Some(format!(
                "arn:{partition}:iam::{account}:role{role_path}{role_name}"
            )),
            Caller::Role { .. } => self.arn(),
            _ => None,
        }
    }

    /// The role name of a role or role session (the last path segment for a role).
    pub fn role_name(&self) -> Option<&str> {
        match self {
            Caller::RoleSession { role_name, .. } => Some(role_name),
            Caller::Role { path_name, .. } => path_name.rsplit('/').next(),
            _ => None,
        }
    }

    /// Whether the caller is a session (role session or federated user), to which a session
    /// policy applies.
    pub fn is_session(&self) -> bool {
        matches!(
            self,
            Caller::RoleSession { .. } | Caller::FederatedUser { .. }
        )
    }

    /// `aws:PrincipalArn`: the role ARN for a role session, else the caller's ARN (spec §6).
    pub fn principal_arn(&self) -> Option<String> {
        match self {
            Caller::RoleSession { .. } => self.role_arn(),
            Caller::Anonymous | Caller::Service { .. } => None,
            _ => self.arn(),
        }
    }

    /// `aws:PrincipalType` (spec §4.6). Anonymous has none: `Anonymous` is unverified.
    pub fn principal_type(&self) -> Option<&'static str> {
        Some(match self {
            Caller::Root { .. } => "Account",
            Caller::User { .. } => "User",
            Caller::FederatedUser { .. } => "FederatedUser",
            Caller::RoleSession { .. } | Caller::Role { .. } => "AssumedRole",
            Caller::Anonymous | Caller::Service { .. } => return None,
        })
    }
}

fn nonempty_last(path_name: &str) -> Option<()> {
    let last = path_name.rsplit('/').next()?;
    (!last.is_empty()).then_some(())
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.arn() {
            Some(a) => f.write_str(&a),
            None => f.write_str("anonymous"),
        }
    }
}
