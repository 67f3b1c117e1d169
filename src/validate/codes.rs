//! Every code iamc gives for a policy or a store, as data: the SARIF output names its rules
//! from here, and the tests check that each validator code has a test that triggers it.

use serde::Serialize;

use crate::diag::Severity;

/// One diagnostic code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CodeInfo {
    /// `IAM150`.
    pub code: &'static str,
    /// The severity findings of this code have (the parser's and the store's are errors,
    /// except `IAM350`).
    pub severity: Severity,
    /// Where it comes from: `parse`, `store`, `engine`, or the validator's family (`types`, `kinesis`,
    /// `sizes`, `actions`, `resources`, `conditions`, `security`, `redundancy`).
    pub family: &'static str,
    /// One line.
    pub summary: &'static str,
}

const fn c(
    code: &'static str,
    severity: Severity,
    family: &'static str,
    summary: &'static str,
) -> CodeInfo {
    CodeInfo {
        code,
        severity,
        family,
        summary,
    }
}

use Severity::{Error as E, SecurityWarning as S, Suggestion as N, Warning as W};

/// Every code, in order.
pub const CODES: &[CodeInfo] = &[
    c("IAM001", E, "parse", "Not valid JSON"),
    c("IAM002", E, "parse", "Duplicate key in a JSON object"),
    c("IAM003", E, "parse", "A size or count bound is exceeded"),
    c(
        "IAM004",
        E,
        "parse",
        "A character outside TAB, LF, CR and U+0020-U+00FF",
    ),
    c(
        "IAM005",
        E,
        "parse",
        "Syntax error in the text policy language",
    ),
    c("IAM010", E, "parse", "Unknown policy or statement element"),
    c("IAM011", E, "parse", "Wrong JSON type for an element"),
    c(
        "IAM012",
        E,
        "parse",
        "Version is neither 2012-10-17 nor 2008-10-17",
    ),
    c("IAM013", E, "parse", "Statement is missing or empty"),
    c("IAM014", E, "parse", "Duplicate Sid"),
    c(
        "IAM015",
        E,
        "parse",
        "Effect missing or not exactly Allow/Deny",
    ),
    c(
        "IAM016",
        E,
        "parse",
        "Action/NotAction: both, neither, or empty",
    ),
    c("IAM017", E, "parse", "Invalid action value"),
    c("IAM018", E, "parse", "Resource/NotResource: both, or empty"),
    c("IAM019", E, "parse", "Invalid resource value"),
    c(
        "IAM020",
        E,
        "parse",
        "Principal/NotPrincipal: both, empty, or of the wrong shape",
    ),
    c("IAM021", E, "parse", "Invalid principal value"),
    c("IAM022", E, "parse", "Condition block of the wrong shape"),
    c(
        "IAM023",
        E,
        "parse",
        "Unknown or invalid condition operator",
    ),
    c(
        "IAM024",
        E,
        "parse",
        "Condition key not of the form prefix:name",
    ),
    c(
        "IAM025",
        E,
        "parse",
        "Condition value not valid for its operator",
    ),
    c(
        "IAM101",
        E,
        "types",
        "Principal in an identity policy, boundary, session policy or SCP",
    ),
    c("IAM102", E, "types", "Resource or NotResource missing"),
    c(
        "IAM103",
        E,
        "types",
        "Sid with characters other than ASCII letters and digits",
    ),
    c(
        "IAM104",
        E,
        "types",
        "Principal missing in a resource-based policy or RCP",
    ),
    c(
        "IAM105",
        E,
        "types",
        "RCP: Principal is not \"*\", or NotPrincipal",
    ),
    c("IAM106", E, "types", "RCP: Allow outside RCPFullAWSAccess"),
    c("IAM107", E, "types", "RCP: NotAction"),
    c("IAM108", E, "types", "RCP: Deny with Action \"*\""),
    c("IAM109", E, "types", "RCP: Version is not 2012-10-17"),
    c(
        "IAM110",
        E,
        "kinesis",
        "Kinesis resource policy: wildcard in an action",
    ),
    c(
        "IAM111",
        E,
        "kinesis",
        "Kinesis resource policy: wildcard principal",
    ),
    c(
        "IAM112",
        E,
        "kinesis",
        "Kinesis resource policy: service, federated or canonical-user principal",
    ),
    c(
        "IAM113",
        E,
        "kinesis",
        "Kinesis resource policy: NotPrincipal, NotAction or NotResource",
    ),
    c(
        "IAM114",
        E,
        "kinesis",
        "Kinesis resource policy: action that cannot be shared",
    ),
    c(
        "IAM115",
        E,
        "kinesis",
        "Kinesis resource policy: action shared at the wrong level (stream/consumer)",
    ),
    c(
        "IAM116",
        E,
        "kinesis",
        "Kinesis resource policy: Resource is not the attached ARN",
    ),
    c(
        "IAM117",
        E,
        "kinesis",
        "Kinesis resource policy: larger than 20 KB",
    ),
    c(
        "IAM118",
        E,
        "kinesis",
        "Kinesis resource policy: attached to something that is not a stream or consumer",
    ),
    c(
        "IAM120",
        E,
        "sizes",
        "Policy larger than IAM allows for its type",
    ),
    c(
        "IAM121",
        W,
        "sizes",
        "Identity policy too large for a managed policy",
    ),
    c("IAM150", W, "actions", "Unknown action of a known service"),
    c("IAM151", W, "actions", "Unknown service prefix"),
    c(
        "IAM152",
        W,
        "actions",
        "Action pattern that matches no known action",
    ),
    c(
        "IAM153",
        W,
        "actions",
        "Action pattern whose wildcard-only actions the specific resources do not grant",
    ),
    c("IAM160", W, "resources", "Malformed Kinesis ARN"),
    c(
        "IAM161",
        W,
        "resources",
        "ARN of another service than the statement's actions",
    ),
    c(
        "IAM162",
        W,
        "resources",
        "Resource type that no action of the statement takes",
    ),
    c(
        "IAM163",
        W,
        "resources",
        "Wildcard-only action with a specific resource",
    ),
    c(
        "IAM164",
        W,
        "resources",
        "A short ARN (fewer than six fields) in an identity-side policy: AWS completes it with *",
    ),
    c(
        "IAM165",
        E,
        "resources",
        "A short ARN (fewer than six fields) in a resource-based policy",
    ),
    c(
        "IAM170",
        W,
        "conditions",
        "Condition key the statement's actions do not support",
    ),
    c(
        "IAM171",
        E,
        "conditions",
        "Operator of the wrong type for its key",
    ),
    c(
        "IAM172",
        W,
        "conditions",
        "String or Binary operator on a key of another type",
    ),
    c("IAM173", W, "conditions", "Unknown global condition key"),
    c(
        "IAM174",
        W,
        "conditions",
        "Multi-valued key without ForAnyValue:/ForAllValues:",
    ),
    c(
        "IAM175",
        W,
        "conditions",
        "Set qualifier on a single-valued key",
    ),
    c(
        "IAM176",
        W,
        "conditions",
        "Policy variable where variables are not allowed",
    ),
    c(
        "IAM177",
        W,
        "conditions",
        "Policy variable in a 2008-10-17 or Version-less policy",
    ),
    c("IAM178", W, "conditions", "No Version element"),
    c(
        "IAM179",
        W,
        "conditions",
        "Null condition that contradicts another condition on the key",
    ),
    c("IAM180", S, "security", "Allow with NotAction"),
    c("IAM181", S, "security", "Allow with NotResource"),
    c("IAM182", S, "security", "Allow with NotPrincipal"),
    c(
        "IAM183",
        S,
        "security",
        "Stream name prefix pattern that matches other streams",
    ),
    c(
        "IAM184",
        S,
        "security",
        "Wildcard stream pattern that also grants on consumers",
    ),
    c(
        "IAM185",
        S,
        "security",
        "Write access for principals of other accounts",
    ),
    c(
        "IAM186",
        S,
        "security",
        "ForAllValues: in an Allow without a Null guard",
    ),
    c(
        "IAM187",
        S,
        "security",
        "A wildcard in the resource type of an ARN, which IAM does not allow",
    ),
    c(
        "IAM190",
        N,
        "redundancy",
        "Statement made redundant by another statement",
    ),
    c("IAM191", N, "redundancy", "Statement that can never match"),
    c("IAM300", E, "store", "A file cannot be read"),
    c(
        "IAM301",
        E,
        "store",
        "Store field of the wrong type or with an invalid value",
    ),
    c("IAM302", E, "store", "Unknown store field"),
    c("IAM303", E, "store", "Required store field missing"),
    c("IAM304", E, "store", "Unknown policy name"),
    c(
        "IAM305",
        E,
        "store",
        "Named policy of the wrong type for its place",
    ),
    c("IAM306", E, "store", "Unknown group or user"),
    c("IAM307", E, "store", "Account id is not 12 digits"),
    c("IAM308", E, "store", "Invalid resource or session ARN"),
    c("IAM309", E, "store", "Names that differ only in case"),
    c("IAM310", E, "store", "A file reference cannot be used"),
    c(
        "IAM350",
        W,
        "store",
        "Kinesis resource policy attached to no resource",
    ),
    c(
        "IAM360",
        E,
        "engine",
        "The compiled engine would pass one of its limits",
    ),
];

/// The entry of `code`.
pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}
