//! `fmt` on the library side: comments kept, idempotence, JSON to text and back, invalid
//! policies refused.

use super::*;

// ---------------------------------------------------------------------------------------------
// Formatting and comments

#[test]
fn fmt_keeps_comments_and_is_idempotent() {
    let source = r#"// Readers of stream1.
/* Owned by
   the analytics team. */
policy "read-stream1" version 2012-10-17 { // header
  // The readers.
  sid "Read" // why
  allow kinesis:Get*, // all reads
    kinesis:DescribeStreamSummary
    on arn:aws:kinesis:us-east-1:111122223333:stream/stream1; // end
  // Listing.
  allow kinesis:ListStreams
  on *;   // short
  allow aws 111122223333, service kinesis.amazonaws.com, aws arn:aws:iam::111122223333:role/x to kinesis:PutRecord on * when
     // only from the VPC
     aws:SourceVpc StringEquals vpc-1 and aws:SecureTransport Bool true and aws:SourceVpce StringEquals "vpce 1", /* second */ vpce-2;
  // before close
} // close
// after
"#;
    let expected = r#"// Readers of stream1.
/* Owned by
   the analytics team. */
policy "read-stream1" version 2012-10-17 { // header
  // The readers.
  sid "Read" // why
  allow kinesis:Get*, // all reads
        kinesis:DescribeStreamSummary
    on arn:aws:kinesis:us-east-1:111122223333:stream/stream1; // end

  // Listing.
  allow kinesis:ListStreams on *; // short

  allow aws 111122223333, aws arn:aws:iam::111122223333:role/x, service kinesis.amazonaws.com
    to kinesis:PutRecord
    on *
    // only from the VPC
    when aws:SourceVpc StringEquals vpc-1
    and aws:SourceVpce StringEquals "vpce 1", /* second */
                                    vpce-2
    and aws:SecureTransport Bool true;

  // before close
} // close
// after
"#;
    let formatted = format_as_text(source, &limits()).unwrap();
    assert_eq!(formatted, expected);
    assert_eq!(format_as_text(&formatted, &limits()).unwrap(), formatted);
    // Comments change nothing in the AST, and are dropped in JSON.
    let json = format_as_json(source, &limits()).unwrap();
    assert!(!json.contains("//") && !json.contains("/*"));
    assert_eq!(strip(&text_ok(source)), strip(&json_ok(&json)));
    // The JSON converts back to the same text, less the comments.
    let back = format_as_text(&json, &limits()).unwrap();
    assert_eq!(
        back,
        r#"policy "read-stream1" version 2012-10-17 {
  sid "Read"
  allow kinesis:Get*, kinesis:DescribeStreamSummary
    on arn:aws:kinesis:us-east-1:111122223333:stream/stream1;

  allow kinesis:ListStreams on *;

  allow aws 111122223333, aws arn:aws:iam::111122223333:role/x, service kinesis.amazonaws.com
    to kinesis:PutRecord
    on *
    when aws:SourceVpc StringEquals vpc-1
    and aws:SourceVpce StringEquals "vpce 1", vpce-2
    and aws:SecureTransport Bool true;
}
"#
    );
}

#[test]
fn fmt_converts_json_to_text_and_back() {
    let json_text =
        std::fs::read_to_string(examples_dir().join("policies/datastreamABC-stream-policy.json"))
            .unwrap();
    let text = format_as_text(&json_text, &limits()).unwrap();
    assert!(text.starts_with("policy \"datastreamABC_sharing\" version 2012-10-17 {\n"));
    let json = format_as_json(&text, &limits()).unwrap();
    assert_eq!(strip(&json_ok(&json)), strip(&json_ok(&json_text)));
    // JSON -> JSON lays the document out again; doing it twice changes nothing.
    let again = format_as_json(&json, &limits()).unwrap();
    assert_eq!(again, json);
}

#[test]
fn fmt_refuses_invalid_policies() {
    let e = format_as_text("policy { allow kinesis on *; }", &limits()).unwrap_err();
    assert_eq!(e[0].code, "IAM017");
    let e = format_as_json("policy { allow ", &limits()).unwrap_err();
    assert_eq!(e[0].code, "IAM005");
}
