//! The table of diagnostic codes: every code iamc gives, for a policy, a store, a credentials
//! file or an evaluation, with its severity, its family and a one-line title. The SARIF output
//! names its rules from here; JSON and SARIF show a code as its string (`IAM012`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Severity;

/// Declares [`Code`] and its table from one list: `Variant = "IAMnnn", severity, family, title;`.
macro_rules! codes {
    ($($name:ident = $code:literal, $sev:ident, $family:literal, $title:literal;)*) => {
        /// One diagnostic code. Codes never change meaning; a retired code is never reused.
        ///
        /// `IAM0xx` parse, `IAM1xx` validate, `IAM2xx` evaluation, `IAM3xx` store, `IAM4xx` the
        /// gateway's credentials file, `IAM5xx` importing AWS account data (`iamc import`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $(
                #[doc = concat!("`", $code, "`: ", $title, ".")]
                $name,
            )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The code as shown: `IAM012`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $code,)*
                }
            }

            /// The severity its findings have (a few are given at another severity where they
            /// are found; the parser's and the store's are errors, except `IAM350`).
            pub const fn severity(self) -> Severity {
                match self {
                    $(Code::$name => $sev,)*
                }
            }

            /// Where it comes from: `parse`, `store`, `eval`, `credentials`, or the validator's
            /// family (`types`, `kinesis`, `sizes`, `actions`, `resources`, `conditions`,
            /// `security`, `redundancy`).
            pub const fn family(self) -> &'static str {
                match self {
                    $(Code::$name => $family,)*
                }
            }

            /// One line: what the code means.
            pub const fn title(self) -> &'static str {
                match self {
                    $(Code::$name => $title,)*
                }
            }
        }
    };
}

use Severity::{Error as E, SecurityWarning as S, Suggestion as N, Warning as W};

codes! {
    InvalidJson = "IAM001", E, "parse", "Not valid JSON";
    DuplicateKey = "IAM002", E, "parse", "Duplicate key in a JSON object";
    BoundExceeded = "IAM003", E, "parse", "A size or count bound is exceeded";
    InvalidCharacter = "IAM004", E, "parse", "A character outside TAB, LF, CR and U+0020-U+00FF";
    TextSyntax = "IAM005", E, "parse", "Syntax error in the text policy language";
    UnknownElement = "IAM010", E, "parse", "Unknown policy or statement element";
    WrongElementType = "IAM011", E, "parse", "Wrong JSON type for an element";
    InvalidVersion = "IAM012", E, "parse", "Version is neither 2012-10-17 nor 2008-10-17";
    MissingStatement = "IAM013", E, "parse", "Statement is missing or empty";
    DuplicateSid = "IAM014", E, "parse", "Duplicate Sid";
    InvalidEffect = "IAM015", E, "parse", "Effect missing or not exactly Allow/Deny";
    InvalidActionElement = "IAM016", E, "parse", "Action/NotAction: both, neither, or empty";
    InvalidAction = "IAM017", E, "parse", "Invalid action value";
    InvalidResourceElement = "IAM018", E, "parse", "Resource/NotResource: both, or empty";
    InvalidResource = "IAM019", E, "parse", "Invalid resource value";
    InvalidPrincipalElement = "IAM020", E, "parse", "Principal/NotPrincipal: both, empty, or of the wrong shape";
    InvalidPrincipal = "IAM021", E, "parse", "Invalid principal value";
    InvalidConditionBlock = "IAM022", E, "parse", "Condition block of the wrong shape";
    InvalidOperator = "IAM023", E, "parse", "Unknown or invalid condition operator";
    InvalidConditionKey = "IAM024", E, "parse", "Condition key not of the form prefix:name";
    InvalidConditionValue = "IAM025", E, "parse", "Condition value not valid for its operator";
    PrincipalNotAllowed = "IAM101", E, "types", "Principal in an identity policy, boundary, session policy or SCP";
    ResourceMissing = "IAM102", E, "types", "Resource or NotResource missing";
    InvalidSid = "IAM103", E, "types", "Sid with characters other than ASCII letters and digits";
    PrincipalMissing = "IAM104", E, "types", "Principal missing in a resource-based policy or RCP";
    RcpPrincipal = "IAM105", E, "types", r#"RCP: Principal is not "*", or NotPrincipal"#;
    RcpAllow = "IAM106", E, "types", "RCP: Allow outside RCPFullAWSAccess";
    RcpNotAction = "IAM107", E, "types", "RCP: NotAction";
    RcpDenyAll = "IAM108", E, "types", r#"RCP: Deny with Action "*""#;
    RcpVersion = "IAM109", E, "types", "RCP: Version is not 2012-10-17";
    KinesisWildcardAction = "IAM110", E, "kinesis", "Kinesis resource policy: wildcard in an action";
    KinesisWildcardPrincipal = "IAM111", E, "kinesis", "Kinesis resource policy: wildcard principal";
    KinesisPrincipalKind = "IAM112", E, "kinesis", "Kinesis resource policy: service, federated or canonical-user principal";
    KinesisNotElement = "IAM113", E, "kinesis", "Kinesis resource policy: NotPrincipal, NotAction or NotResource";
    KinesisUnshareableAction = "IAM114", E, "kinesis", "Kinesis resource policy: action that cannot be shared";
    KinesisActionLevel = "IAM115", E, "kinesis", "Kinesis resource policy: action shared at the wrong level (stream/consumer)";
    KinesisResourceNotAttached = "IAM116", E, "kinesis", "Kinesis resource policy: Resource is not the attached ARN";
    KinesisPolicyTooLarge = "IAM117", E, "kinesis", "Kinesis resource policy: larger than 20 KB";
    KinesisAttachedTo = "IAM118", E, "kinesis", "Kinesis resource policy: attached to something that is not a stream or consumer";
    PolicyTooLarge = "IAM120", E, "sizes", "Policy larger than IAM allows for its type";
    ManagedPolicyTooLarge = "IAM121", W, "sizes", "Identity policy too large for a managed policy";
    TrustResource = "IAM130", E, "types", "Role trust policy: Resource or NotResource";
    TrustNotPrincipal = "IAM131", E, "types", "Role trust policy: NotPrincipal";
    TrustAction = "IAM132", W, "types", "Role trust policy: an action other than the sts: actions of assuming a role";
    UnknownAction = "IAM150", W, "actions", "Unknown action of a known service";
    UnknownService = "IAM151", W, "actions", "Unknown service prefix";
    ActionPatternMatchesNothing = "IAM152", W, "actions", "Action pattern that matches no known action";
    PatternMissesWildcardOnlyActions = "IAM153", W, "actions", "Action pattern whose wildcard-only actions the specific resources do not grant";
    MalformedKinesisArn = "IAM160", W, "resources", "Malformed Kinesis ARN";
    ArnOfOtherService = "IAM161", W, "resources", "ARN of another service than the statement's actions";
    ResourceTypeNotTaken = "IAM162", W, "resources", "Resource type that no action of the statement takes";
    WildcardOnlyActionOnResource = "IAM163", W, "resources", "Wildcard-only action with a specific resource";
    ShortArnIdentity = "IAM164", W, "resources", "A short ARN (fewer than six fields) in an identity-side policy: AWS completes it with *";
    ShortArnResourcePolicy = "IAM165", E, "resources", "A short ARN (fewer than six fields) in a resource-based policy";
    UnsupportedConditionKey = "IAM170", W, "conditions", "Condition key the statement's actions do not support";
    OperatorTypeMismatch = "IAM171", E, "conditions", "Operator of the wrong type for its key";
    StringOperatorOnTypedKey = "IAM172", W, "conditions", "String or Binary operator on a key of another type";
    UnknownGlobalKey = "IAM173", W, "conditions", "Unknown global condition key";
    MultiValuedKeyWithoutQualifier = "IAM174", W, "conditions", "Multi-valued key without ForAnyValue:/ForAllValues:";
    QualifierOnSingleValuedKey = "IAM175", W, "conditions", "Set qualifier on a single-valued key";
    VariableNotAllowed = "IAM176", W, "conditions", "Policy variable where variables are not allowed";
    VariableInOldVersion = "IAM177", W, "conditions", "Policy variable in a 2008-10-17 or Version-less policy";
    NoVersion = "IAM178", W, "conditions", "No Version element";
    NullContradiction = "IAM179", W, "conditions", "Null condition that contradicts another condition on the key";
    AllowNotAction = "IAM180", S, "security", "Allow with NotAction";
    AllowNotResource = "IAM181", S, "security", "Allow with NotResource";
    AllowNotPrincipal = "IAM182", S, "security", "Allow with NotPrincipal";
    StreamPrefixPattern = "IAM183", S, "security", "Stream name prefix pattern that matches other streams";
    StreamWildcardGrantsConsumers = "IAM184", S, "security", "Wildcard stream pattern that also grants on consumers";
    CrossAccountWrite = "IAM185", S, "security", "Write access for principals of other accounts";
    ForAllValuesWithoutNull = "IAM186", S, "security", "ForAllValues: in an Allow without a Null guard";
    WildcardResourceType = "IAM187", S, "security", "A wildcard in the resource type of an ARN, which IAM does not allow";
    RedundantStatement = "IAM190", N, "redundancy", "Statement made redundant by another statement";
    UnmatchableStatement = "IAM191", N, "redundancy", "Statement that can never match";
    EvalMalformedRequestValue = "IAM201", E, "eval", "A request value not valid for the condition's operator (number, date, IP address, base64, boolean)";
    EvalNegatedOnMultiValued = "IAM202", E, "eval", "A negated operator without ForAllValues:/ForAnyValue: on a multi-valued request value";
    EvalValueDoesNotFit = "IAM203", E, "eval", "A policy value that does not fit its condition operator";
    EvalMissingResourceType = "IAM204", E, "eval", "A multi-resource action without a resource of each type it needs";
    StoreFileUnreadable = "IAM300", E, "store", "A file cannot be read";
    StoreWrongType = "IAM301", E, "store", "Store field of the wrong type or with an invalid value";
    StoreUnknownField = "IAM302", E, "store", "Unknown store field";
    StoreMissingField = "IAM303", E, "store", "Required store field missing";
    UnknownPolicyName = "IAM304", E, "store", "Unknown policy name";
    PolicyTypeMismatch = "IAM305", E, "store", "Named policy of the wrong type for its place";
    UnknownGroupOrUser = "IAM306", E, "store", "Unknown group or user";
    InvalidAccountId = "IAM307", E, "store", "Account id is not 12 digits";
    InvalidStoreArn = "IAM308", E, "store", "Invalid resource or session ARN";
    CaseCollision = "IAM309", E, "store", "Names that differ only in case";
    FileReferenceRefused = "IAM310", E, "store", "A file reference cannot be used";
    UnattachedKinesisPolicy = "IAM350", W, "store", "Kinesis resource policy attached to no resource";
    EngineLimit = "IAM360", E, "engine", "The compiled engine would pass one of its limits";
    CredentialsUnreadable = "IAM400", E, "credentials", "A credentials file cannot be read, is not UTF-8, or is too large";
    CredentialsWrongType = "IAM401", E, "credentials", "Credentials field of the wrong type or with an invalid value";
    CredentialsUnknownField = "IAM402", E, "credentials", "Unknown credentials field";
    CredentialsMissingField = "IAM403", E, "credentials", "Required credentials field missing";
    CredentialsBadPrincipal = "IAM404", E, "credentials", "A principal that cannot sign";
    CredentialsSessionPolicy = "IAM405", E, "credentials", "session_policy on a principal that is not a session";
    CredentialsTagCase = "IAM406", E, "credentials", "Tag keys of one principal that differ only in ASCII case";
    ImportUnreadable = "IAM500", E, "import", "An import input cannot be read or is not JSON";
    ImportWrongType = "IAM501", W, "import", "An import input field of the wrong type or with an invalid value; the item is skipped";
    ImportMissingField = "IAM502", W, "import", "A required import input field is missing; the item is skipped";
    ImportBadDocument = "IAM503", W, "import", "A policy document that cannot be decoded, parsed or validated for its place; it is skipped";
    ImportUnresolved = "IAM504", W, "import", "A reference to a policy, group or version the inputs do not hold; it is skipped";
    ImportNotModeled = "IAM505", W, "import", "Something the store does not model (other organization policy types); skipped and counted";
    ImportConflict = "IAM506", W, "import", "The same principal, policy or resource twice with different content; the first is kept";
}

impl Code {
    /// Whether the parser gives it (`IAM0xx`): its place is the parser's own position.
    pub fn is_parse(self) -> bool {
        self.family() == "parse"
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a known code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown diagnostic code `{0}`")]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Code, UnknownCode> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode(s.to_string()))
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_in_order() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert_eq!(s.len(), 6, "{s}");
            assert!(s.starts_with("IAM"), "{s}");
            assert!(s[3..].bytes().all(|b| b.is_ascii_digit()), "{s}");
            assert!(!c.title().is_empty() && !c.title().ends_with('.'), "{s}");
        }
        assert!(Code::ALL.windows(2).all(|w| w[0].as_str() < w[1].as_str()));
        assert!(Code::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn as_str_round_trips() {
        for &c in Code::ALL {
            assert_eq!(c.as_str().parse::<Code>(), Ok(c));
            assert_eq!(c.to_string(), c.as_str());
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<Code>(&json).unwrap(), c);
        }
        assert!("IAM999".parse::<Code>().is_err());
        assert!("iam001".parse::<Code>().is_err());
    }

    #[test]
    fn the_families_follow_the_ranges() {
        for &c in Code::ALL {
            let want: &[&str] = match &c.as_str()[..4] {
                "IAM0" => &["parse"],
                "IAM1" => &[
                    "types",
                    "kinesis",
                    "sizes",
                    "actions",
                    "resources",
                    "conditions",
                    "security",
                    "redundancy",
                ],
                "IAM2" => &["eval"],
                "IAM3" => &["store", "engine"],
                "IAM4" => &["credentials"],
                "IAM5" => &["import"],
                _ => &[],
            };
            assert!(want.contains(&c.family()), "{c}: {}", c.family());
            assert_eq!(c.is_parse(), c.family() == "parse");
        }
    }

    /// The rows `| `IAMnnn` | …` of the code tables in the module docs.
    fn table_rows(text: &str) -> Vec<(Code, Vec<&str>)> {
        text.lines()
            .filter_map(|l| l.strip_prefix("//! | `IAM"))
            .map(|rest| {
                let cells: Vec<&str> = rest.split(" | ").collect();
                let code = format!("IAM{}", cells[0].trim_end_matches('`'));
                let code = code.parse().unwrap_or_else(|e| panic!("{e}"));
                (code, cells[1..].to_vec())
            })
            .collect()
    }

    #[test]
    fn the_documented_tables_agree_with_the_enum() {
        let mut documented = Vec::new();
        // The validator's table: code, severity, family, meaning.
        for (code, cells) in table_rows(include_str!("../validate/mod.rs")) {
            assert_eq!(cells[0], code.severity().as_str(), "{code}");
            assert_eq!(cells[1], code.family(), "{code}");
            documented.push(code);
        }
        for (family, text) in [
            ("parse", include_str!("../parse/json/policy.rs")),
            ("parse", include_str!("../parse/text/mod.rs")),
            ("store", include_str!("../store/mod.rs")),
            ("eval", include_str!("../eval/decision.rs")),
            ("credentials", include_str!("../gateway/credentials.rs")),
            ("engine", include_str!("../compile/builder.rs")),
            ("import", include_str!("../import/mod.rs")),
        ] {
            // A table may name codes of other families too (the store's repeats the reader's).
            documented.extend(
                table_rows(text)
                    .into_iter()
                    .map(|(code, _)| code)
                    .filter(|code| code.family() == family),
            );
        }
        let missing: Vec<&Code> = Code::ALL
            .iter()
            .filter(|c| !documented.contains(c))
            .collect();
        assert!(missing.is_empty(), "not documented: {missing:?}");
    }

    #[test]
    fn every_code_the_readme_names_exists() {
        let readme = include_str!("../../README.md");
        let mut rest = readme;
        let mut n = 0;
        while let Some(i) = rest.find("IAM") {
            rest = &rest[i + 3..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() == 3 {
                let code = format!("IAM{digits}");
                assert!(code.parse::<Code>().is_ok(), "README names {code}");
                n += 1;
            }
        }
        assert!(n > 20);
    }
}
