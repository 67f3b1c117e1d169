#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn text(s: &str) -> Cbor {
    Cbor::Text(s.into())
}

fn bytes_of(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

#[test]
fn a_put_record_decodes_to_what_the_mapping_reads() {
    let body = bytes_of(&Cbor::Map(vec![
        (text("StreamName"), text("orders")),
        (text("Data"), Cbor::Bytes(vec![0, 159, 255])),
        (text("PartitionKey"), text("k")),
        (
            text("Timestamp"),
            Cbor::Tag(1, Box::new(Cbor::Float(1_700_000_000.5))),
        ),
        (text("Limit"), Cbor::Integer(10.into())),
    ]));
    let v = decode(&body).unwrap();
    assert_eq!(v["StreamName"], "orders");
    assert_eq!(v["Data"], "");
    assert_eq!(v["Limit"], 10);
    assert_eq!(v["Timestamp"].as_f64(), Some(1_700_000_000.5));
}

#[test]
fn what_could_be_read_two_ways_is_refused() {
    let twice = bytes_of(&Cbor::Map(vec![
        (text("StreamName"), text("allowed")),
        (text("StreamName"), text("secret")),
    ]));
    assert!(decode(&twice).unwrap_err().contains("twice"));
    let mut trailing = bytes_of(&Cbor::Map(vec![(text("StreamName"), text("a"))]));
    trailing.push(0x60);
    assert!(decode(&trailing)
        .unwrap_err()
        .contains("after the first item"));
    let int_key = bytes_of(&Cbor::Map(vec![(Cbor::Integer(1.into()), text("a"))]));
    assert!(decode(&int_key).is_err());
    assert!(decode(b"{\"StreamName\": \"json\"}").is_err());
    assert!(decode(&[0xbf]).is_err(), "an unfinished map");
}

#[test]
fn accounts_are_rewritten_in_text_only_and_timestamps_keep_their_tag() {
    let answer = Cbor::Map(vec![(
        text("StreamDescriptionSummary"),
        Cbor::Map(vec![
            (
                text("StreamARN"),
                text("arn:aws:kinesis:us-east-1:000000000000:stream/orders"),
            ),
            (
                text("StreamCreationTimestamp"),
                Cbor::Tag(1, Box::new(Cbor::Float(1_700_000_000.123))),
            ),
            (text("Blob"), Cbor::Bytes(b":000000000000:stream/".to_vec())),
        ]),
    )]);
    let body = Bytes::from(bytes_of(&answer));
    let out = rewrite_accounts(body.clone(), "000000000000", "111122223333");
    let v: Cbor = ciborium::from_reader(&out[..]).unwrap();
    let expected = Cbor::Map(vec![(
        text("StreamDescriptionSummary"),
        Cbor::Map(vec![
            (
                text("StreamARN"),
                text("arn:aws:kinesis:us-east-1:111122223333:stream/orders"),
            ),
            (
                text("StreamCreationTimestamp"),
                Cbor::Tag(1, Box::new(Cbor::Float(1_700_000_000.123))),
            ),
            (text("Blob"), Cbor::Bytes(b":000000000000:stream/".to_vec())),
        ]),
    )]);
    assert_eq!(v, expected);
    // Nothing to rewrite: the same bytes, not a re-encoding.
    let same = rewrite_accounts(body.clone(), "222233334444", "111122223333");
    assert_eq!(same.as_ptr(), body.as_ptr());
}

#[test]
fn an_error_is_cbor_with_type_and_message() {
    let body =
        to_cbor(&serde_json::json!({"__type": "AccessDeniedException", "message": "no"})).unwrap();
    let v: Cbor = ciborium::from_reader(&body[..]).unwrap();
    assert_eq!(
        v,
        Cbor::Map(vec![
            (text("__type"), text("AccessDeniedException")),
            (text("message"), text("no")),
        ])
    );
    let upstream = Bytes::from(bytes_of(&Cbor::Map(vec![
        (text("__type"), text("ResourceNotFoundException")),
        (
            text("message"),
            text("Stream x under account 000000000000 not found."),
        ),
    ])));
    let out = rewrite_error_message(upstream, "000000000000", "111122223333");
    assert_eq!(
        decode(&out).unwrap()["message"],
        "Stream x under account 111122223333 not found."
    );
}

#[test]
fn stream_name_is_added_from_the_arn() {
    let body = bytes_of(&Cbor::Map(vec![(
        text("StreamARN"),
        text("arn:aws:kinesis:us-east-1:111122223333:stream/orders"),
    )]));
    let out = with_stream_name(&body, "orders").unwrap();
    assert_eq!(decode(&out).unwrap()["StreamName"], "orders");
}
